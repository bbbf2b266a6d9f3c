/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_worker.c - one evtls-load thread.
 *
 * A worker owns conns slots. A slot runs one operation at a time: in
 * handshake mode a connection (connect, handshake, close), in request mode
 * one HTTP request (connecting first when the slot has no open
 * connection), in hold mode one connection kept open until the end.
 * Closed loop: a slot starts its next operation when the last one ends.
 * Open loop (--rate): operation k is due at its scheduled time t0 + k/rate
 * (on a linear ramp first, with --ramp-up); a due operation waits for a
 * free slot, and its latency counts from the scheduled time. */
#include "lt_worker.h"

#include "cli_tls.h"
#include "lt_schedule.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <evtls/evtls.h>
#include <evtls/http.h>

enum slot_state {
    S_FREE,       /* no connection, no operation */
    S_IDLE_CONN,  /* request mode: an open connection waiting for a request */
    S_CONNECTING, /* connecting for an operation */
    S_EXCHANGE,   /* a request in flight */
    S_CLOSING,    /* closing its connection */
    S_HELD,       /* hold mode: connected and kept */
    S_DEAD        /* hold mode: its connection failed */
};

struct slot {
    lt_worker *w;
    evtls_conn *c;
    evtls_http_exchange *x;
    enum slot_state state;
    int has_op;               /* an operation runs on this slot */
    unsigned reqs;            /* requests on the current connection */
    int retried;              /* the operation was sent again after the keep-alive race */
    unsigned backoff_ms;      /* after a failed connect (closed loop, -d): the wait */
    int status;               /* the operation's HTTP status, for --log-file */
    evtls_http_req *req;      /* the operation's request (its URL) */
    struct event *backoff_ev; /* ends the wait */
    uint64_t op_start;        /* the operation's (scheduled) start */
    uint64_t reqs_all;        /* requests ended on this slot, over the run */
    uint64_t conn_start;
    struct slot *next_free;
};

struct lt_worker {
    const lt_opts *o;
    lt_share sh;
    lt_schedule sched; /* from o and sh */
    struct event_base *base;
    evtls_cfg *cfg;
    evtls_resolver *resolver;
    evtls_session_cache *sessions;
    evtls_http_req *reqs[LT_MAX_URLS];
    unsigned n_reqs, next_req; /* several URLs: taken in turn */
    evtls_http_opts hopts;
    evtls_http_cbs cbs;
    const char *dial_host; /* the host to connect to, unless --address */
    unsigned next_addr;

    struct slot *slots;
    unsigned active; /* slots started so far (--ramp-up) */
    struct slot *free;
    unsigned busy; /* slots running an operation or closing */

    uint64_t started;     /* operations started */
    uint64_t due;         /* open loop: operations 0 .. due-1 are due */
    uint64_t handshakes;  /* connections started (for --resume-ratio) */
    uint64_t offers_owed; /* --resume-ratio: offers due that found no session yet */
    uint64_t warm_left;   /* --warm-up: operations still to run uncounted */
    uint64_t warm_end_us; /* when the warm-up ended (0: none) */
    uint64_t began_us;    /* when its start timer fired (0: not yet) */
    lt_logrec *log;       /* --log-file */
    size_t log_n, log_cap;
    uint64_t log_dropped;
    int stopping, finished;
    int holding; /* hold mode: every connection settled, the -d timer runs */

    struct event *rate_timer, *ramp_timer, *end_timer, *stop_ev;
    int stop_fd[2];
    pthread_t thread;
    int thread_started;

    lt_stats st;
    uint64_t unfinished;
    _Atomic uint64_t a_done, a_errors, a_held;
};

uint64_t lt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void try_start(lt_worker *w);
static void finish(lt_worker *w);
static void arm(struct event *ev, uint64_t at_us);

/* ---- scheduling */

/* Open loop: the scheduled time of operation k (lt_schedule.c). */
static uint64_t sched_us(const lt_worker *w, uint64_t k)
{
    return lt_schedule_op_us(&w->sched, k);
}

static int budget_left(const lt_worker *w)
{
    return w->sh.total == 0 || w->started < w->sh.total;
}

/* The start time of the next operation, or 0 when none may start now. */
static uint64_t next_op(lt_worker *w)
{
    if (w->stopping || !budget_left(w))
        return 0;
    if (w->o->rate > 0)
        return w->started < w->due ? sched_us(w, w->started) : 0;
    return lt_now_us();
}

/* ---- accounting */

static void log_op(lt_worker *w, struct slot *s, int err)
{
    if (w->o->log_file == NULL)
        return;
    if (w->log_n == w->log_cap) {
        size_t cap = w->log_cap ? 2 * w->log_cap : 4096;
        lt_logrec *l = cap <= LT_LOG_MAX ? realloc(w->log, cap * sizeof *l) : NULL;
        if (l == NULL) {
            w->log_dropped++;
            return;
        }
        w->log = l;
        w->log_cap = cap;
    }
    uint64_t now = lt_now_us();
    lt_logrec *r = &w->log[w->log_n++];
    r->start_us = s->op_start > w->sh.t0_us ? s->op_start - w->sh.t0_us : 0;
    r->total_us = (uint32_t)(now - s->op_start > UINT32_MAX ? UINT32_MAX : now - s->op_start);
    r->status = (int16_t)s->status;
    r->err = (int16_t)(s->status >= 400 ? 0 : err); /* a 4xx/5xx shows as its status */
}

/* The last warm-up operation ended: what came before is not counted. */
static void warm_up_done(lt_worker *w)
{
    lt_stats_free(&w->st);
    lt_stats_init(&w->st);
    w->log_n = 0;
    w->warm_end_us = lt_now_us();
}

static void record_op(lt_worker *w, struct slot *s, int err)
{
    if (w->warm_left > 0) {
        s->has_op = 0;
        s->status = 0;
        if (--w->warm_left == 0)
            warm_up_done(w);
        return;
    }
    log_op(w, s, err);
    s->has_op = 0;
    s->status = 0;
    uint64_t now = lt_now_us(), took = now - s->op_start;
    lt_stats_second(&w->st, now > w->sh.t0_us ? (now - w->sh.t0_us) / 1000000u : 0, err, took);
    if (err == 0) {
        w->st.ops_ok++;
        lt_hist_record(&w->st.hist[LT_TOTAL], took);
    } else {
        w->st.ops_failed++;
        atomic_store_explicit(&w->a_errors, w->st.ops_failed, memory_order_relaxed);
    }
    atomic_store_explicit(&w->a_done, w->st.ops_ok + w->st.ops_failed, memory_order_relaxed);
}

static void count_bytes(lt_worker *w, evtls_conn *c)
{
    const evtls_conn_info *i = evtls_conn_get_info(c);
    w->st.bytes_in += i->bytes_in;
    w->st.bytes_out += i->bytes_out;
    w->st.read_wakes += i->read_wakes;
}

static void push_free(lt_worker *w, struct slot *s)
{
    s->next_free = w->free;
    w->free = s;
}

/* The slot's operation (or close) ended: it takes the next one. */
static void release(struct slot *s)
{
    lt_worker *w = s->w;
    w->busy--;
    push_free(w, s);
    try_start(w);
}

/* ---- connections */

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)err; /* a close that timed out still closed */
    struct slot *s = arg;
    count_bytes(s->w, c);
    s->c = NULL;
    s->state = S_FREE;
    release(s);
}

static void close_conn(struct slot *s)
{
    lt_worker *w = s->w;
    s->state = S_CLOSING;
    /* With resumption wanted, wait for the server's close: a TLS 1.3
     * server's tickets come after the handshake. */
    int rc = w->o->resume_ratio > 0 ? evtls_conn_shutdown(s->c, on_closed, s)
                                    : evtls_conn_close(s->c, on_closed, s);
    if (rc != 0) {
        count_bytes(w, s->c);
        evtls_conn_free(s->c);
        s->c = NULL;
        s->state = S_FREE;
        release(s);
    }
}

static void drop_conn(struct slot *s)
{
    if (s->c) {
        count_bytes(s->w, s->c);
        evtls_conn_free(s->c);
        s->c = NULL;
    }
    s->state = S_FREE;
}

static void start_exchange(struct slot *s);

/* The connect's TCP attempts: how many sockets it took, how many lost. */
static void count_attempts(lt_worker *w, evtls_conn *c)
{
    const evtls_conn_info *i = evtls_conn_get_info(c);
    w->st.attempts += i->attempts;
    for (unsigned k = 0; k < i->n_attempt_info; k++)
        w->st.attempts_lost += i->attempt[k].outcome == EVTLS_ATTEMPT_LOST;
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct slot *s = arg;
    push_free(s->w, s);
    try_start(s->w);
}

/* A closed loop run for -d that meets a server refusing (or a name that
 * does not resolve) would otherwise start a connect the moment the last
 * failed: the slot waits first, 10 ms doubling to 1 s, until a connect
 * succeeds. (With -n every failure counts toward n; with --rate the
 * schedule paces the attempts.) Returns 1 when the slot now waits. */
static int back_off(struct slot *s)
{
    lt_worker *w = s->w;
    if (w->o->rate > 0 || w->o->duration_us == 0 || w->stopping)
        return 0;
    if (s->backoff_ev == NULL && (s->backoff_ev = evtimer_new(w->base, backoff_cb, s)) == NULL)
        return 0;
    s->backoff_ms = s->backoff_ms ? (s->backoff_ms >= 500 ? 1000 : 2 * s->backoff_ms) : 10;
    w->st.backoffs++;
    w->busy--;
    arm(s->backoff_ev, lt_now_us() + (uint64_t)s->backoff_ms * 1000);
    return 1;
}

static void on_connected(evtls_conn *c, int err, void *arg)
{
    struct slot *s = arg;
    lt_worker *w = s->w;
    uint64_t now = lt_now_us();
    count_attempts(w, c);
    if (err) {
        w->st.conns_failed++;
        lt_stats_error(&w->st, err);
        drop_conn(s);
        record_op(w, s, err);
        if (w->o->mode == LT_MODE_HOLD) {
            s->state = S_DEAD;
            w->busy--;
            try_start(w);
        } else if (!back_off(s)) {
            release(s);
        }
        return;
    }
    s->backoff_ms = 0;
    const evtls_conn_info *i = evtls_conn_get_info(c);
    w->st.conns_ok++;
    w->st.offered += i->session_offered != 0;
    w->st.resumed += i->resumed != 0;
    lt_stats_tls(&w->st, i->tls_version, i->cipher, i->group);
    lt_hist_record(&w->st.hist[LT_DNS], i->dns_us);
    lt_hist_record(&w->st.hist[LT_TCP], i->tcp_us);
    lt_hist_record(&w->st.hist[LT_TLS], i->tls_us);
    lt_hist_record(&w->st.hist[LT_CONNECT], now - s->conn_start);
    switch (w->o->mode) {
    case LT_MODE_HANDSHAKE:
        record_op(w, s, 0);
        close_conn(s);
        return;
    case LT_MODE_HOLD:
        record_op(w, s, 0);
        s->state = S_HELD;
        w->busy--;
        atomic_fetch_add_explicit(&w->a_held, 1, memory_order_relaxed);
        try_start(w);
        return;
    case LT_MODE_REQUEST:
        s->reqs = 0;
        start_exchange(s);
        return;
    }
}

static void start_connect(struct slot *s)
{
    lt_worker *w = s->w;
    const lt_opts *o = w->o;
    s->state = S_CONNECTING;
    s->conn_start = lt_now_us();
    s->c = evtls_conn_new(w->base, w->cfg);
    int err = s->c ? 0 : EVTLS_ERR_NOMEM;
    if (err == 0 && w->resolver)
        err = evtls_conn_set_resolver(s->c, w->resolver);
    /* Without resumption no session is kept (nor serialised). */
    if (err == 0 && o->resume_ratio > 0)
        err = evtls_conn_set_session_cache(s->c, w->sessions);
    if (err == 0 && o->resume_ratio > 0) {
        /* Offer a session to the share --resume-ratio of handshakes, spread
         * evenly: handshake h owes an offer when floor((h+1) r) > floor(h r).
         * An offer owed while no session exists yet (the first connections
         * start together, before any server has sent one) is made by the
         * next handshake that finds one, so the share holds over the run. */
        double r = o->resume_ratio, h = (double)w->handshakes++;
        w->offers_owed += floor((h + 1) * r) > floor(h * r);
        evtls_session_stats ss;
        evtls_session_cache_get_stats(w->sessions, &ss);
        int offer = w->offers_owed > 0 && ss.sessions > 0;
        w->offers_owed -= (uint64_t)offer;
        err = evtls_conn_set_session_offer(s->c, offer);
    }
    const char *host = w->dial_host;
    if (o->n_addrs) {
        host = o->addrs[w->next_addr];
        w->next_addr = (w->next_addr + 1) % o->n_addrs;
    }
    if (err == 0)
        err = evtls_conn_connect(s->c, host, o->url.port, on_connected, s);
    if (err != 0) {
        /* It failed before any I/O: report it like a failed connect, from
         * here (the callback was not and will not be called). */
        on_connected(s->c, err, s);
    }
}

/* ---- requests */

static int on_body(evtls_http_exchange *x, const uint8_t *data, size_t len, void *arg)
{
    (void)x, (void)data, (void)len, (void)arg;
    return 0; /* counted by the response; not kept */
}

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct slot *s = arg;
    lt_worker *w = s->w;
    s->x = NULL;
    s->reqs++;
    s->reqs_all++;
    /* The keep-alive race (the library's rule, as the client applies it):
     * the same operation again, once, on a new connection. */
    if (err && !w->o->no_retry && !s->retried &&
        evtls_http_retry_safe(s->req, err, r, s->reqs > 1)) {
        w->st.retried++;
        s->retried = 1;
        s->reqs_all--;
        drop_conn(s);
        s->reqs = 0;
        start_connect(s);
        return;
    }
    if (err) {
        w->st.reqs_failed++;
        lt_stats_error(&w->st, err);
        record_op(w, s, err);
        drop_conn(s); /* its state is unknown: not reused */
        release(s);
        return;
    }
    int status = evtls_http_resp_get_status(r);
    s->status = status;
    w->st.body_bytes += evtls_http_resp_get_body_bytes(r);
    w->st.status[status / 100 < 6 ? status / 100 : 0]++;
    if (status >= 100 && status < 600)
        w->st.codes[status]++;
    lt_hist_record(&w->st.hist[LT_TTFB], evtls_http_resp_get_ttfb_us(r));
    if (status >= 400) {
        w->st.reqs_failed++;
        w->st.status_errors++;
        record_op(w, s, -1);
    } else {
        w->st.reqs_ok++;
        record_op(w, s, 0);
    }
    unsigned rpc = w->o->reqs_per_conn;
    if (evtls_http_resp_get_keep_alive(r) && (rpc == 0 || s->reqs < rpc) && !w->stopping) {
        s->state = S_IDLE_CONN;
        release(s);
    } else {
        close_conn(s);
    }
}

static void start_exchange(struct slot *s)
{
    lt_worker *w = s->w;
    s->state = S_EXCHANGE;
    /* The operation's URL: kept across a keep-alive retry. */
    if (!s->retried)
        s->req = w->reqs[w->next_req++ % w->n_reqs];
    int err = evtls_http_exchange_start(s->c, s->req, &w->hopts, &w->cbs, s, &s->x);
    if (err)
        on_done(NULL, err, NULL, s);
}

/* ---- the loop */

static void start_op(struct slot *s, uint64_t start)
{
    lt_worker *w = s->w;
    w->started++;
    w->busy++;
    s->has_op = 1;
    s->retried = 0;
    s->op_start = start;
    if (s->state == S_IDLE_CONN)
        start_exchange(s);
    else
        start_connect(s);
}

static void try_start(lt_worker *w)
{
    uint64_t start;
    while (w->free && (start = next_op(w)) != 0) {
        struct slot *s = w->free;
        w->free = s->next_free;
        start_op(s, start);
    }
    if (w->busy == 0 && !w->finished) {
        int more = !w->stopping && budget_left(w) &&
                   (w->o->mode != LT_MODE_HOLD || w->active < w->sh.conns);
        /* Hold mode: the hold (-d) starts once every connection has been
         * made or has failed, however long that took. */
        if (!more && w->o->mode == LT_MODE_HOLD && !w->holding && !w->stopping) {
            w->holding = 1;
            uint64_t now = lt_now_us();
            w->st.settle_us = now > w->sh.t0_us ? now - w->sh.t0_us : 0;
            if (w->o->duration_us)
                arm(w->end_timer, lt_now_us() + w->o->duration_us);
        }
        /* Hold mode ends with -d or a signal, unless nothing is held. */
        if (!more && (w->o->mode != LT_MODE_HOLD ||
                      atomic_load_explicit(&w->a_held, memory_order_relaxed) == 0))
            finish(w);
    }
}

static void arm(struct event *ev, uint64_t at_us)
{
    uint64_t now = lt_now_us(), d = at_us > now ? at_us - now : 0;
    struct timeval tv = {(time_t)(d / 1000000), (suseconds_t)(d % 1000000)};
    event_add(ev, &tv);
}

static void rate_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    lt_worker *w = arg;
    uint64_t now = lt_now_us();
    while ((w->sh.total == 0 || w->due < w->sh.total) && sched_us(w, w->due) <= now)
        w->due++;
    try_start(w);
    if (!w->stopping && (w->sh.total == 0 || w->due < w->sh.total))
        arm(w->rate_timer, sched_us(w, w->due));
}

static uint64_t slot_join_us(const lt_worker *w, unsigned i)
{
    return lt_schedule_join_us(&w->sched, i);
}

static void ramp_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    lt_worker *w = arg;
    uint64_t now = lt_now_us();
    if (w->began_us == 0)
        w->began_us = now;
    while (w->active < w->sh.conns && slot_join_us(w, w->active) <= now)
        push_free(w, &w->slots[w->active++]);
    try_start(w);
    if (w->active < w->sh.conns && !w->stopping)
        arm(w->ramp_timer, slot_join_us(w, w->active));
}

/* Ends the run: operations in flight are abandoned, connections closed. */
static void finish(lt_worker *w)
{
    if (w->finished)
        return;
    w->finished = w->stopping = 1;
    w->st.offers_missed = w->offers_owed;
    if (w->o->rate > 0) {
        /* The open loop's schedule up to now: what came due and never
         * started (no free connection in time; k6's dropped iterations). */
        uint64_t now = lt_now_us();
        while ((w->sh.total == 0 || w->due < w->sh.total) && sched_us(w, w->due) <= now)
            w->due++;
        w->st.due = w->due;
        w->st.never_started = w->due > w->started ? w->due - w->started : 0;
    }
    for (unsigned i = 0; i < w->active; i++) {
        struct slot *s = &w->slots[i];
        if (s->backoff_ev)
            event_del(s->backoff_ev);
        if (s->reqs_all < w->st.slot_reqs_min)
            w->st.slot_reqs_min = s->reqs_all;
        if (s->reqs_all > w->st.slot_reqs_max)
            w->st.slot_reqs_max = s->reqs_all;
        if (s->has_op)
            w->unfinished++;
        if (s->x)
            evtls_http_exchange_cancel(s->x);
        s->x = NULL;
        if (s->c) {
            count_bytes(w, s->c);
            evtls_conn_free(s->c); /* one try at close_notify; no callbacks */
            s->c = NULL;
        }
    }
    event_base_loopbreak(w->base);
}

static void end_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    lt_worker *w = arg;
    uint64_t now = lt_now_us();
    if (w->sh.end_us)
        w->st.stop_late_us = now > w->sh.end_us ? now - w->sh.end_us : 0;
    finish(w);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char b[16];
    if (read(fd, b, sizeof b) < 0 && errno != EAGAIN)
        return;
    finish(arg);
}

/* ---- set-up */

static int build_cfg(lt_worker *w, char *err, size_t errlen)
{
    const lt_opts *o = w->o;
    struct cli_tls t = {
        .cacert = o->cacert, .capath = o->capath, .insecure = o->insecure,
        /* With --address the host is only the name to verify. */
        .servername = o->servername ? o->servername : o->n_addrs ? o->url.host : NULL,
        .alpn = o->alpn, .ciphers = o->ciphers, .groups = o->groups, .tls_min = o->tls_min,
        .tls_max = o->tls_max, .family = o->family, .race_limit = (int)o->race_limit,
        .connect_ms = o->connect_ms, .handshake_ms = o->handshake_ms, .sources = o->sources,
        .n_sources = o->n_sources, .net = &o->net};
    return cli_tls_build(&t, o->url.plain, o->url.host, &w->cfg, err, errlen);
}

/* The request for one URL of the run (method, headers and body as the
 * options say) into *out, which the caller frees even after a failure. */
static int build_request(const lt_opts *o, const evtls_url *u, evtls_http_req **out, char *err,
                         size_t errlen)
{
    evtls_http_req *req = *out = evtls_http_req_new(o->method, u->authority, u->target);
    if (req == NULL)
        return lt_fail(err, errlen, "--method: '%s' is not a method evtls sends", o->method);
    if (cli_request_headers(req, o->headers, o->n_headers, err, errlen) != 0)
        return -1;
    if (o->data && evtls_http_req_set_body(req, o->data_buf ? o->data_buf : o->data,
                                           o->data_buf ? o->data_len : strlen(o->data)) != 0)
        return lt_fail(err, errlen, "--data: not allowed with --method %s", o->method);
    return 0;
}

/* Request mode: a request for each URL of the run, and the exchanges'
 * limits and callbacks. */
static int build_requests(lt_worker *w, char *err, size_t errlen)
{
    const lt_opts *o = w->o;
    for (unsigned i = 0; i <= o->n_more_urls; i++) {
        evtls_url u = o->url;
        if (i > 0 && evtls_url_parse(o->more_urls[i - 1], 0, &u) != 0)
            return lt_fail(err, errlen, "'%s': %s", o->more_urls[i - 1], u.error);
        int rc = build_request(o, &u, &w->reqs[w->n_reqs++], err, errlen);
        if (rc != 0)
            return rc;
    }
    evtls_http_opts_default(&w->hopts);
    if (o->timeout_ms)
        w->hopts.ttfb_timeout_ms = w->hopts.idle_timeout_ms = o->timeout_ms;
    if (o->max_body)
        w->hopts.max_body_bytes = (size_t)o->max_body;
    w->cbs.on_body = on_body;
    w->cbs.on_done = on_done;
    return 0;
}

lt_worker *lt_worker_new(const lt_opts *o, const lt_share *share, char *err, size_t errlen)
{
    lt_worker *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->o = o;
    w->sh = *share;
    w->sched = (lt_schedule){.rate = o->rate, .ramp_us = o->ramp_us, .t0_us = share->t0_us,
                             .idx = share->idx, .of = share->of, .shard = share->shard,
                             .shards = share->shards, .conns = share->conns};
    /* --warm-up: this thread's share, run before (and on top of) -n. */
    w->warm_left =
        lt_share_of(lt_share_of(o->warm_up, share->shard, share->shards), share->idx, share->of);
    if (w->sh.total)
        w->sh.total += w->warm_left;
    w->stop_fd[0] = w->stop_fd[1] = -1;
    lt_stats_init(&w->st);
    w->slots = calloc(share->conns, sizeof *w->slots);
    /* An open loop needs its timer on time: libevent's default rounds
     * epoll's timeout to milliseconds, which would add up to 1 ms of the
     * client's own lateness to every operation. */
    struct event_config *ec = event_config_new();
    if (ec && o->rate > 0)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    w->base = ec ? event_base_new_with_config(ec) : NULL;
    if (ec)
        event_config_free(ec);
    if (w->slots == NULL || w->base == NULL || pipe2(w->stop_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "out of memory or file descriptors");
        lt_worker_free(w);
        return NULL;
    }
    for (unsigned i = 0; i < share->conns; i++)
        w->slots[i].w = w;
    if (build_cfg(w, err, errlen) != 0 ||
        (o->mode == LT_MODE_REQUEST && build_requests(w, err, errlen) != 0)) {
        lt_worker_free(w);
        return NULL;
    }
    w->dial_host = o->url.host;
    if (!o->url.host_is_ip && o->n_addrs == 0) {
        w->resolver = evtls_resolver_new(w->base, o->resolver);
        if (w->resolver == NULL) {
            snprintf(err, errlen, "--resolver: cannot use '%s'",
                     o->resolver ? o->resolver : "/etc/resolv.conf");
            lt_worker_free(w);
            return NULL;
        }
    }
    w->sessions = evtls_session_cache_new(4);
    size_t per_origin = share->conns * 2u < 4 ? 4 : share->conns * 2u;
    if (w->sessions == NULL ||
        evtls_session_cache_set_capacity(w->sessions, per_origin > 65536 ? 65536 : per_origin)) {
        snprintf(err, errlen, "out of memory");
        lt_worker_free(w);
        return NULL;
    }
    w->rate_timer = evtimer_new(w->base, rate_cb, w);
    w->ramp_timer = evtimer_new(w->base, ramp_cb, w);
    w->end_timer = evtimer_new(w->base, end_cb, w);
    w->stop_ev = event_new(w->base, w->stop_fd[0], EV_READ | EV_PERSIST, stop_cb, w);
    if (!w->rate_timer || !w->ramp_timer || !w->end_timer || !w->stop_ev) {
        snprintf(err, errlen, "out of memory");
        lt_worker_free(w);
        return NULL;
    }
    return w;
}

static void *run(void *arg)
{
    lt_worker *w = arg;
    event_add(w->stop_ev, NULL);
    if (w->sh.end_us)
        arm(w->end_timer, w->sh.end_us);
    if (w->o->rate > 0)
        arm(w->rate_timer, sched_us(w, 0));
    arm(w->ramp_timer, w->sh.t0_us); /* every worker starts at t0 */
    event_base_dispatch(w->base);
    finish(w);
    /* Let the aborted connections' deferred frees run. */
    event_base_loop(w->base, EVLOOP_NONBLOCK);
    evtls_thread_cleanup();
    char one = 1;
    if (write(w->sh.done_fd, &one, 1) < 0) {
        /* the main thread also notices the join */
    }
    return NULL;
}

int lt_worker_start(lt_worker *w)
{
    int rc = pthread_create(&w->thread, NULL, run, w);
    w->thread_started = rc == 0;
    return rc;
}

void lt_worker_stop(lt_worker *w)
{
    char one = 1;
    if (write(w->stop_fd[1], &one, 1) < 0) {
        /* a full pipe: a stop is already pending */
    }
}

void lt_worker_join(lt_worker *w)
{
    if (w->thread_started)
        pthread_join(w->thread, NULL);
    w->thread_started = 0;
}

uint64_t lt_worker_ops_done(const lt_worker *w)
{
    return atomic_load_explicit(&w->a_done, memory_order_relaxed);
}

uint64_t lt_worker_errors(const lt_worker *w)
{
    return atomic_load_explicit(&w->a_errors, memory_order_relaxed);
}

uint64_t lt_worker_held(const lt_worker *w)
{
    return atomic_load_explicit(&w->a_held, memory_order_relaxed);
}

const lt_stats *lt_worker_stats(const lt_worker *w)
{
    return &w->st;
}

const lt_logrec *lt_worker_log(const lt_worker *w, size_t *n, uint64_t *dropped)
{
    *n = w->log_n;
    *dropped = w->log_dropped;
    return w->log;
}

uint64_t lt_worker_warm_end(const lt_worker *w)
{
    return w->warm_end_us;
}

uint64_t lt_worker_began(const lt_worker *w)
{
    return w->began_us;
}

uint64_t lt_worker_unfinished(const lt_worker *w)
{
    return w->unfinished;
}

void lt_worker_free(lt_worker *w)
{
    if (w == NULL)
        return;
    lt_worker_join(w);
    if (w->rate_timer)
        event_free(w->rate_timer);
    if (w->ramp_timer)
        event_free(w->ramp_timer);
    if (w->end_timer)
        event_free(w->end_timer);
    if (w->stop_ev)
        event_free(w->stop_ev);
    for (unsigned i = 0; i < w->n_reqs; i++)
        evtls_http_req_free(w->reqs[i]);
    evtls_session_cache_unref(w->sessions);
    evtls_resolver_unref(w->resolver);
    evtls_cfg_unref(w->cfg);
    for (unsigned i = 0; w->slots && i < w->sh.conns; i++)
        if (w->slots[i].backoff_ev)
            event_free(w->slots[i].backoff_ev);
    if (w->base)
        event_base_free(w->base);
    for (int i = 0; i < 2; i++)
        if (w->stop_fd[i] >= 0)
            close(w->stop_fd[i]);
    free(w->slots);
    free(w->log);
    lt_stats_free(&w->st);
    free(w);
}
