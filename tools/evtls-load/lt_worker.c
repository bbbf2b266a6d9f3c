/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_worker.c - one evtls-load thread: its set-up (the configuration,
 * the requests, the loop and its timers: the rate, the ramp, the end, a
 * stop from another thread), the thread, and what the run reads of it
 * after. Its slots are driven by lt_slot.c. */
#include "lt_worker.h"

#include "cli_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void rate_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    lt_worker *w = arg;
    uint64_t now = lt_now_us();
    while ((w->sh.total == 0 || w->due < w->sh.total) && lt_sched_us(w, w->due) <= now)
        w->due++;
    lt_slots_try_start(w);
    if (!w->stopping && (w->sh.total == 0 || w->due < w->sh.total))
        lt_arm(w->rate_timer, lt_sched_us(w, w->due));
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
    while (w->active < w->n_slots && slot_join_us(w, w->active) <= now)
        lt_slots_push_free(w, &w->slots[w->active++]);
    lt_slots_try_start(w);
    if (w->active < w->n_slots && !w->stopping)
        lt_arm(w->ramp_timer, slot_join_us(w, w->active));
}

static void end_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    lt_worker *w = arg;
    uint64_t now = lt_now_us();
    if (w->sh.end_us)
        w->st.stop_late_us = now > w->sh.end_us ? now - w->sh.end_us : 0;
    w->st.ended_by_d = 1;
    lt_slots_finish(w);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char b[16];
    if (read(fd, b, sizeof b) < 0 && errno != EAGAIN)
        return;
    lt_slots_finish(arg);
}

/* ---- set-up */

/* A configuration for an origin of URL u dialled at dial_host (or at
 * addresses of its own when addressed). */
static int build_cfg(const lt_opts *o, const evtls_url *u, const char *dial_host, int addressed,
                     evtls_cfg **out, char *err, size_t errlen)
{
    struct cli_tls t = o->tls;
    if (t.servername == NULL && (addressed || strcmp(dial_host, u->host) != 0 || o->script_path))
        t.servername = u->host; /* dialled elsewhere: the host is the name to verify */
    t.race_limit = (int)o->race_limit;
    t.sources = o->sources;
    t.n_sources = o->n_sources;
    t.net = &o->net;
    return cli_tls_build(&t, u->plain, u->host, out, err, errlen);
}

/* The request for one URL of the run into *out (the caller frees it even
 * after a failure): method, headers and body as the options say, or as
 * target t says (the options' headers first). */
static int build_request(const lt_opts *o, const evtls_url *u, const lt_target *t,
                         evtls_http_req **out, char *err, size_t errlen)
{
    const char *method = o->method;
    if (t)
        method = t->method ? t->method : t->body ? "POST" : "GET";
    evtls_http_req *req = *out = evtls_http_req_new(method, u->authority, u->target);
    if (req == NULL)
        return lt_fail(err, errlen, "%s%s: '%s' is not a method evtls sends", t ? "target " : "",
                       t ? t->name : "--method", method);
    if (cli_request_headers(req, o->headers, o->n_headers, err, errlen) != 0 ||
        (t &&
         cli_request_headers(req, (const char *const *)t->headers, t->n_headers, err, errlen) != 0))
        return -1;
    const char *body = t ? t->body : o->data_buf ? o->data_buf : o->data;
    size_t len = t ? t->body_len : o->data_buf ? o->data_len : o->data ? strlen(o->data) : 0;
    if (body && evtls_http_req_set_body(req, body, len) != 0)
        return lt_fail(err, errlen, "%s%s: a body is not allowed with %s", t ? "target " : "",
                       t ? t->name : "--data", method);
    return 0;
}

/* Request mode: a request for each URL of the run (or each target), and
 * the exchanges' limits and callbacks. */
static int build_requests(lt_worker *w, char *err, size_t errlen)
{
    const lt_opts *o = w->o;
    unsigned n = o->targets ? o->targets->n : o->n_more_urls + 1;
    for (unsigned i = 0; i < n; i++) {
        evtls_url u = o->url;
        if (o->targets)
            u = o->target_url[i];
        else if (i > 0 && evtls_url_parse(o->more_urls[i - 1], 0, &u) != 0)
            return lt_fail(err, errlen, "'%s': %s", o->more_urls[i - 1], u.error);
        int rc = build_request(o, &u, o->targets ? &o->targets->t[i] : NULL, &w->reqs[w->n_reqs++],
                               err, errlen);
        if (rc != 0)
            return rc;
    }
    evtls_http_opts_default(&w->hopts);
    if (o->timeout_ms)
        w->hopts.ttfb_timeout_ms = w->hopts.idle_timeout_ms = o->timeout_ms;
    w->hopts.total_timeout_ms = o->request_timeout_ms; /* 0: none */
    if (o->max_body)
        w->hopts.max_body_bytes = (size_t)o->max_body;
    w->cbs.on_body = lt_slot_on_body;
    w->cbs.on_done = lt_slot_on_done;
    return 0;
}

/* The origins: the URL's, or each of the targets' with its share of the
 * thread's connections; each slot is given one, the origins interleaved
 * (a ramp brings each in at its pace). */
static int make_groups(lt_worker *w, char *err, size_t errlen)
{
    const lt_opts *o = w->o;
    w->n_groups = o->targets ? o->n_origins : 1;
    w->groups = calloc(w->n_groups, sizeof *w->groups);
    if (w->groups == NULL)
        return lt_fail(err, errlen, "out of memory");
    unsigned idx[LT_MAX_TARGETS], weight[LT_MAX_TARGETS];
    for (unsigned i = 0; o->targets && i < o->targets->n; i++) {
        idx[i] = i;
        weight[i] = o->targets->t[i].weight;
    }
    for (unsigned g = 0; g < w->n_groups; g++) {
        struct lt_group *gr = &w->groups[g];
        if (o->targets == NULL) {
            gr->dial_host = o->dial_host;
            gr->dial_port = o->dial_port;
            gr->addrs = o->addrs;
            gr->n_addrs = o->n_addrs;
            gr->conns = w->sh.conns; /* connections (HTTP/2: each -M slots' streams) */
            if (build_cfg(o, &o->url, o->dial_host, o->n_addrs > 0, &gr->cfg, err, errlen) != 0)
                return -1;
            continue;
        }
        const struct lt_origin *og = &o->origins[g];
        gr->dial_host = og->dial_host;
        gr->dial_port = og->dial_port;
        if (w->n_groups == 1 && o->n_addrs) { /* --address (or --resolve) for the one origin */
            gr->addrs = o->addrs;
            gr->n_addrs = o->n_addrs;
        } else if (og->addr) {
            gr->addrs = &og->addr;
            gr->n_addrs = 1;
        }
        gr->conns = (unsigned)lt_share_of(lt_share_of(og->conns, w->sh.shard, w->sh.shards),
                                          w->sh.idx, w->sh.of);
        if (build_cfg(o, og->url, og->dial_host, gr->n_addrs > 0, &gr->cfg, err, errlen) != 0 ||
            lt_draw_init(&gr->draw, idx, weight, o->targets->n, o->seed) != 0)
            return gr->cfg ? lt_fail(err, errlen, "out of memory") : -1;
    }
    unsigned given[LT_MAX_TARGETS] = {0};
    for (unsigned i = 0; i < w->n_slots; i++) {
        unsigned best = 0; /* the origin furthest behind its share */
        for (unsigned g = 1; g < w->n_groups; g++)
            if ((uint64_t)given[g] * w->groups[best].conns <
                (uint64_t)given[best] * w->groups[g].conns)
                best = g;
        w->slots[i].group = best;
        given[best]++;
    }
    return 0;
}

/* HTTP/2: the thread's -c connections are a pool's, each shared by -M
 * slots' streams; the pool counts each connection's bytes as it goes. */
static void on_pool_state(evtls_pool *p, evtls_conn *c, evtls_pool_conn_state from,
                          evtls_pool_conn_state to, void *arg)
{
    (void)from;
    lt_worker *w = arg;
    if (to != EVTLS_POOL_CLOSED)
        return;
    if (c)
        lt_slot_conn_gone(w, c);
    (void)p;
    uint64_t goaways = 0; /* a connection's session counts are its pool's as it goes */
    for (unsigned g = 0; g < w->n_groups; g++) {
        evtls_pool_stats ps;
        if (w->groups[g].pool) {
            evtls_pool_get_stats(w->groups[g].pool, &ps);
            goaways += ps.goaways;
        }
    }
    w->st.h2_goaways = goaways;
}

/* HTTP/2: each origin's connections a pool's, shared by its slots' streams. */
static int make_pools(lt_worker *w, char *err, size_t errlen)
{
    for (unsigned g = 0; g < w->n_groups; g++) {
        evtls_pool_opts po;
        evtls_pool_opts_default(&po);
        po.max_per_origin = po.max_total = w->groups[g].conns;
        po.max_idle_per_origin = w->groups[g].conns;
        po.idle_timeout_ms = 0; /* kept for the run */
        po.wait_timeout_ms = 0; /* a stream is waited for as long as it takes */
        po.resumption = 0;
        evtls_pool *p = w->groups[g].pool = evtls_pool_new(w->base, &po);
        if (p == NULL || (w->resolver && evtls_pool_set_resolver(p, w->resolver) != 0) ||
            evtls_pool_set_state_cb(p, on_pool_state, w) != 0)
            return lt_fail(err, errlen, "out of memory");
    }
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
    w->n_slots = share->conns * (o->max_streams ? o->max_streams : 1);
    for (unsigned g = 0, n = 0; o->targets && g < o->n_origins; g++) { /* each origin's share */
        n += (unsigned)lt_share_of(lt_share_of(o->origins[g].conns, share->shard, share->shards),
                                   share->idx, share->of);
        w->sh.conns = n;
        w->n_slots = n * (o->max_streams ? o->max_streams : 1);
    }
    w->sched = (lt_schedule){.rate = o->rate,
                             .ramp_us = o->ramp_us,
                             .t0_us = share->t0_us,
                             .idx = share->idx,
                             .of = share->of,
                             .shard = share->shard,
                             .shards = share->shards,
                             .conns = w->n_slots,
                             .stage_us = o->stage_us,
                             .stage_rate = o->stage_rate,
                             .n_stages = o->n_stages,
                             .stages_conns = o->stages_conns};
    /* --warm-up: this thread's share, run before (and on top of) -n. */
    w->warm_left =
        lt_share_of(lt_share_of(o->warm_up, share->shard, share->shards), share->idx, share->of);
    if (w->sh.total)
        w->sh.total += w->warm_left;
    w->stop_fd[0] = w->stop_fd[1] = -1;
    lt_stats_init(&w->st);
    w->slots = calloc(w->n_slots, sizeof *w->slots);
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
    for (unsigned i = 0; i < w->n_slots; i++) {
        struct slot *s = &w->slots[i];
        s->w = w;
        if (!o->stages_conns)
            continue;
        /* --conn-stages: its joins and leaves, timed (out until it joins) */
        s->parked = 1;
        s->ev_at = calloc(o->n_stages, sizeof *s->ev_at);
        s->ev_join = calloc(o->n_stages, sizeof *s->ev_join);
        s->stage_ev = evtimer_new(w->base, lt_slot_stage_cb, s);
        if (s->ev_at == NULL || s->ev_join == NULL || s->stage_ev == NULL) {
            snprintf(err, errlen, "out of memory");
            lt_worker_free(w);
            return NULL;
        }
        s->n_ev =
            (unsigned)lt_schedule_slot_events(&w->sched, i, s->ev_at, s->ev_join, o->n_stages);
    }
    if (o->targets) {
        w->tst = calloc(o->targets->n, sizeof *w->tst);
        for (unsigned i = 0; w->tst && i < o->targets->n; i++)
            lt_stats_init(&w->tst[i]);
    }
    if ((o->targets && w->tst == NULL && lt_fail(err, errlen, "out of memory")) ||
        make_groups(w, err, errlen) != 0 ||
        (o->mode == LT_MODE_REQUEST && build_requests(w, err, errlen) != 0)) {
        lt_worker_free(w);
        return NULL;
    }
    if (o->script_path && (w->script = lt_script_new(o, 0, err, errlen)) == NULL) {
        lt_worker_free(w);
        return NULL;
    }
    int names = o->script_path != NULL;
    /* setup() may give a name's address later */ /* an origin dialled by name needs the
                                                     resolver */
    for (unsigned g = 0; g < w->n_groups; g++) {
        const evtls_url *u = o->targets ? o->origins[g].url : &o->url;
        names |= w->groups[g].n_addrs == 0 &&
                 !(u->host_is_ip && strcmp(w->groups[g].dial_host, u->host) == 0);
    }
    if (names) {
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
    /* --session-file: this thread's share of it (a single-use ticket in
     * two threads' caches would be offered twice) */
    if (o->session_file && access(o->session_file, F_OK) == 0) {
        int n = evtls_session_cache_load_share(w->sessions, o->session_file, share->idx, share->of);
        w->sessions_loaded = n;
    }
    if (o->tls.http2 && make_pools(w, err, errlen) != 0) {
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
        lt_arm(w->end_timer, w->sh.end_us);
    if (w->o->rate > 0)
        lt_arm(w->rate_timer, lt_sched_us(w, 0));
    if (w->o->stages_conns) { /* each slot joins and leaves at its own times */
        w->active = w->n_slots;
        for (unsigned i = 0; i < w->n_slots; i++)
            if (w->slots[i].n_ev)
                lt_arm(w->slots[i].stage_ev, w->slots[i].ev_at[0]);
    }
    lt_arm(w->ramp_timer, w->sh.t0_us); /* every worker starts at t0 */
    event_base_dispatch(w->base);
    lt_slots_finish(w);
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

uint64_t lt_worker_checks(const lt_worker *w, uint64_t *failed)
{
    *failed = atomic_load_explicit(&w->a_checks_failed, memory_order_relaxed);
    return atomic_load_explicit(&w->a_checks, memory_order_relaxed);
}

void lt_worker_metrics(const lt_worker *w, struct lt_metrics_view *v)
{
    uint64_t done = atomic_load_explicit(&w->a_done, memory_order_relaxed),
             errs = atomic_load_explicit(&w->a_errors, memory_order_relaxed), below = 0;
    v->ok += done - errs;
    v->errors += errs;
    v->held += atomic_load_explicit(&w->a_held, memory_order_relaxed);
    v->backlog += atomic_load_explicit(&w->a_backlog, memory_order_relaxed);
    for (int b = 0; b < LT_METRIC_BUCKETS; b++) { /* cumulative, as a histogram's buckets */
        below += atomic_load_explicit(&w->a_bucket[b], memory_order_relaxed);
        v->bucket[b] += below;
    }
    for (int c = 0; c < 6; c++)
        v->status[c] += atomic_load_explicit(&w->a_status[c], memory_order_relaxed);
    for (int c = 0; c < LT_METRIC_CLASSES; c++)
        v->err_class[c] += atomic_load_explicit(&w->a_err_class[c], memory_order_relaxed);
    const lt_targets *ts = w->o->targets;
    v->n_targets = ts ? ts->n : 0;
    for (unsigned t = 0; ts && t < ts->n; t++) {
        v->target_name[t] = ts->t[t].name;
        v->target_ok[t] += atomic_load_explicit(&w->a_target[t][1], memory_order_relaxed);
        v->target_err[t] += atomic_load_explicit(&w->a_target[t][0], memory_order_relaxed);
    }
    v->in_flight += atomic_load_explicit(&w->a_in_flight, memory_order_relaxed);
    v->conns_open += atomic_load_explicit(&w->a_conns_open, memory_order_relaxed);
    v->body_bytes += atomic_load_explicit(&w->a_body_bytes, memory_order_relaxed);
    v->tls_in += atomic_load_explicit(&w->a_tls_in, memory_order_relaxed);
    v->tls_out += atomic_load_explicit(&w->a_tls_out, memory_order_relaxed);
    v->n_phases = LT_NPHASES;
    for (int p = 0; p < LT_NPHASES; p++) {
        uint64_t upto = 0; /* cumulative, as a histogram's buckets */
        v->phase_name[p] = lt_phase_names[p];
        for (int b = 0; b <= LT_METRIC_BUCKETS; b++) {
            upto += atomic_load_explicit(&w->a_phase[p][b], memory_order_relaxed);
            if (b < LT_METRIC_BUCKETS)
                v->phase_bucket[p][b] += upto;
        }
        v->phase_count[p] += upto;
        v->phase_sum_s[p] +=
            (double)atomic_load_explicit(&w->a_phase_sum_us[p], memory_order_relaxed) / 1e6;
    }
    v->latency_count += atomic_load_explicit(&w->a_lat_count, memory_order_relaxed);
    v->latency_sum_s += (double)atomic_load_explicit(&w->a_lat_sum_us, memory_order_relaxed) / 1e6;
}

int lt_worker_sessions_loaded(const lt_worker *w)
{
    return w->sessions_loaded;
}

int lt_worker_sessions_into(const lt_worker *w, evtls_session_cache *all)
{
    return evtls_session_cache_merge(all, w->sessions);
}

uint64_t lt_worker_ops_done(const lt_worker *w)
{
    return atomic_load_explicit(&w->a_done, memory_order_relaxed);
}

int lt_worker_add_second(const lt_worker *w, uint64_t sec, uint32_t *slot, uint64_t *ops,
                         uint64_t *errors)
{
    const struct lt_live_second *l = &w->live[sec & 1];
    if (atomic_load_explicit(&l->tag, memory_order_acquire) != sec + 1)
        return 0; /* no operation ended in that second, or not yet */
    static _Thread_local uint32_t got[LT_SERIES_SLOTS];
    for (unsigned k = 0; k < LT_SERIES_SLOTS; k++)
        got[k] = atomic_load_explicit(&l->slot[k], memory_order_relaxed);
    uint64_t o = atomic_load_explicit(&l->ops, memory_order_relaxed),
             e = atomic_load_explicit(&l->errors, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&l->tag, memory_order_relaxed) != sec + 1)
        return -1; /* the thread moved on two seconds while it was read */
    for (unsigned k = 0; k < LT_SERIES_SLOTS; k++)
        slot[k] += got[k];
    *ops += o;
    *errors += e;
    return 0;
}

uint64_t lt_worker_backlog(const lt_worker *w)
{
    return atomic_load_explicit(&w->a_backlog, memory_order_relaxed);
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

lt_script *lt_worker_script(const lt_worker *w)
{
    return w->script;
}

void lt_worker_script_ready(lt_worker *w)
{
    uint16_t port;
    const char *addr = lt_script_addr(w->script, &port);
    if (addr == NULL)
        return;
    w->script_addr = addr; /* setup()'s thread.addr: this thread connects there */
    w->groups[0].addrs = &w->script_addr;
    w->groups[0].n_addrs = 1;
    w->groups[0].dial_port = port;
}

int lt_worker_script_failed(const lt_worker *w)
{
    return atomic_load(&w->a_script_failed);
}

const lt_stats *lt_worker_target_stats(const lt_worker *w, unsigned t)
{
    return &w->tst[t];
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
    for (unsigned g = 0; w->groups && g < w->n_groups; g++) {
        evtls_pool_free(w->groups[g].pool);
        evtls_cfg_unref(w->groups[g].cfg);
        lt_draw_free(&w->groups[g].draw);
    }
    free(w->groups);
    for (unsigned i = 0; w->tst && i < w->o->targets->n; i++)
        lt_stats_free(&w->tst[i]);
    free(w->tst);
    free(w->seen);
    for (unsigned i = 0; w->slots && i < w->n_slots; i++) {
        struct slot *s = &w->slots[i];
        if (s->backoff_ev)
            event_free(s->backoff_ev);
        if (s->delay_ev)
            event_free(s->delay_ev);
        if (s->stage_ev)
            event_free(s->stage_ev);
        free(s->ev_at);
        free(s->ev_join);
        lt_sreq_unref(s->sreq);
        free(s->body);
    }
    if (w->script && !lt_script_owned(w->script))
        lt_script_free(w->script);
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
