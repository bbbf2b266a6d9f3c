/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_slot.c - evtls-load's slot driver: each slot runs one operation at a
 * time (a handshake, a request, a held connection), counts it, and takes
 * the next when it is due.
 *
 * In handshake mode an operation is a connection (connect, handshake,
 * close); in request mode one HTTP request (connecting first when the slot
 * has no open connection); in hold mode one connection kept open until the
 * end. Closed loop: a slot starts its next operation when the last one
 * ends. Open loop (--rate): operation k is due at its scheduled time
 * (lt_schedule.c); a due operation waits for a free slot, and its latency
 * counts from the scheduled time. */
#include "lt_slot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t lt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- scheduling */

/* Open loop: the scheduled time of operation k (lt_schedule.c). */
uint64_t lt_sched_us(const lt_worker *w, uint64_t k)
{
    return lt_schedule_op_us(&w->sched, k);
}

/* The counters an operation's figures go to: the run's, and with
 * --targets its target's too (for (EACH_ST(s, st)) ...). */
#define EACH_ST(s, st)                                                                             \
    lt_stats *st = &(s)->w->st, *st##_next = (s)->w->tst ? &(s)->w->tst[(s)->target] : NULL;       \
    st;                                                                                            \
    st = st##_next, st##_next = NULL

/* --script: a script error ends this thread's run (the main thread ends
 * the others'), said once. */
static void script_failed(lt_worker *w, const char *err)
{
    if (!atomic_exchange(&w->a_script_failed, 1))
        fprintf(stderr, "evtls-load: --script %s: %s\n", w->o->script_path, err);
    w->stopping = 1;
}

/* A latency into st, and into the live metrics when st is the run's. */
static void rec(lt_worker *w, lt_stats *st, int phase, uint64_t us)
{
    lt_hist_record(&st->hist[phase], us);
    if (st != &w->st || !w->o->metrics_listen || w->warm_left > 0)
        return;
    unsigned b = 0;
    while (b < LT_METRIC_BUCKETS && us > lt_metric_bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&w->a_phase[phase][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->a_phase_sum_us[phase], us, memory_order_relaxed);
}

/* HTTP/2: the slots are streams on the origins' pools (there until the
 * run's end frees them). */
static int h2(const lt_worker *w)
{
    return w->groups[0].pool != NULL;
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
        return w->started < w->due ? lt_sched_us(w, w->started) : 0;
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
    for (unsigned i = 0; w->tst && i < w->o->targets->n; i++) {
        lt_stats_free(&w->tst[i]);
        lt_stats_init(&w->tst[i]);
    }
    w->log_n = 0;
    w->warm_end_us = lt_now_us();
}

/* Counts a success in second sec's live counts (the progress line's). */
static void live_record(lt_worker *w, uint64_t sec, uint64_t took, int err)
{
    struct lt_live_second *l = &w->live[sec & 1];
    if (atomic_load_explicit(&l->tag, memory_order_relaxed) != sec + 1) {
        /* A new second: the one two before it is emptied. The tag goes to
         * 0 first, so a reader that sees the same tag before and after its
         * reading read one second's counts. */
        atomic_store_explicit(&l->tag, 0, memory_order_release);
        for (unsigned k = 0; k < LT_SERIES_SLOTS; k++)
            atomic_store_explicit(&l->slot[k], 0, memory_order_relaxed);
        atomic_store_explicit(&l->ops, 0, memory_order_relaxed);
        atomic_store_explicit(&l->errors, 0, memory_order_relaxed);
        atomic_store_explicit(&l->tag, sec + 1, memory_order_release);
    }
    atomic_store_explicit(&l->ops, atomic_load_explicit(&l->ops, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (err) {
        atomic_store_explicit(&l->errors,
                              atomic_load_explicit(&l->errors, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        return;
    }
    unsigned k = lt_layout_slot_of(LT_SERIES_SUB_BITS, took > LT_HIST_VMAX ? LT_HIST_VMAX : took);
    atomic_store_explicit(&l->slot[k], atomic_load_explicit(&l->slot[k], memory_order_relaxed) + 1,
                          memory_order_relaxed);
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
    uint64_t sec = now > w->sh.t0_us ? (now - w->sh.t0_us) / 1000000u : 0;
    lt_stats_second(&w->st, sec, err, took);
    live_record(w, sec, took, err);
    /* total is every operation's, as k6, wrk and h2load count it; total_ok
     * the successful ones' (a fast failure must not hide in "total"). */
    for (EACH_ST(s, st)) {
        rec(w, st, LT_TOTAL, took);
        st->ops_ok += err == 0;
        st->ops_failed += err != 0;
        if (err == 0)
            rec(w, st, LT_TOTAL_OK, took);
    }
    if (w->o->metrics_listen) {
        if (err)
            atomic_fetch_add_explicit(
                &w->a_err_class[err == -1 ? LT_METRIC_CLASSES - 1 : (int)evtls_err_get_class(err)],
                1, memory_order_relaxed);
        if (w->tst)
            atomic_fetch_add_explicit(&w->a_target[s->target][err == 0], 1, memory_order_relaxed);
    }
    if (err == 0) {
        if (w->o->metrics_listen) {
            unsigned b = 0;
            while (b < LT_METRIC_BUCKETS && took > lt_metric_bucket_us[b])
                b++;
            atomic_fetch_add_explicit(&w->a_bucket[b], 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&w->a_lat_sum_us, took, memory_order_relaxed);
            atomic_fetch_add_explicit(&w->a_lat_count, 1, memory_order_relaxed);
        }
    } else {
        atomic_store_explicit(&w->a_errors, w->st.ops_failed, memory_order_relaxed);
    }
    atomic_store_explicit(&w->a_done, w->st.ops_ok + w->st.ops_failed, memory_order_relaxed);
}

/* A connection is up: marked as the worker's (HTTP/2: counted once,
 * however many streams it carries) and open until count_bytes. */
static void conn_opened(lt_worker *w, evtls_conn *c)
{
    evtls_conn_set_userdata(c, w);
    if (w->o->metrics_listen)
        atomic_fetch_add_explicit(&w->a_conns_open, 1, memory_order_relaxed);
}

static void count_bytes(lt_worker *w, evtls_conn *c)
{
    if (evtls_conn_get_userdata(c) == w && w->o->metrics_listen) { /* it was open: it goes */
        evtls_conn_set_userdata(c, NULL);
        atomic_fetch_sub_explicit(&w->a_conns_open, 1, memory_order_relaxed);
    }
    const evtls_conn_info *i = evtls_conn_get_info(c);
    w->st.bytes_in += i->bytes_in;
    w->st.bytes_out += i->bytes_out;
    if (w->o->metrics_listen) {
        atomic_fetch_add_explicit(&w->a_tls_in, i->bytes_in, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->a_tls_out, i->bytes_out, memory_order_relaxed);
    }
    w->st.read_wakes += i->read_wakes;
}

static void park(struct slot *s);

void lt_slots_push_free(lt_worker *w, struct slot *s)
{
    if (s->parked) { /* --conn-stages: it left: its connection goes */
        park(s);
        return;
    }
    struct lt_group *g = &w->groups[s->group];
    s->next_free = g->free;
    g->free = s;
}

/* The slot's operation (or close) ended: it takes the next one. */
static void release(struct slot *s)
{
    lt_worker *w = s->w;
    w->busy--;
    lt_slots_push_free(w, s);
    lt_slots_try_start(w);
}

/* ---- the slot's states */

/* Each state with the moves out of it. slot_set is the only writer of
 * s->state; it applies a state's entry action (BACKOFF arms its timer). A
 * move the table does not have is a bug: a debug build aborts; a release
 * build prints it and counts an INTERNAL error, so that the run cannot end
 * as a success. */
#define M(x) (1u << (x))
static const struct {
    const char *name;
    unsigned next;
} slot_states[] = {
    [S_FREE] = {"FREE", M(S_CONNECTING) | M(S_BACKOFF) | M(S_DEAD)},
    /* -> CLOSING: its slot left (--conn-stages) */
    [S_IDLE_CONN] = {"IDLE_CONN", M(S_EXCHANGE) | M(S_CLOSING)},
    /* -> CLOSING: handshake mode; -> HELD: hold mode */
    [S_CONNECTING] = {"CONNECTING", M(S_FREE) | M(S_EXCHANGE) | M(S_CLOSING) | M(S_HELD)},
    [S_EXCHANGE] = {"EXCHANGE", M(S_FREE) | M(S_IDLE_CONN) | M(S_CLOSING)},
    [S_CLOSING] = {"CLOSING", M(S_FREE)},
    [S_BACKOFF] = {"BACKOFF", M(S_FREE)},
    [S_HELD] = {"HELD", 0},
    [S_DEAD] = {"DEAD", 0},
};
#undef M

static void slot_set(struct slot *s, enum slot_state to)
{
    enum slot_state from = s->state;
    if (from == to)
        return;
    if (!(slot_states[from].next & (1u << to))) {
        fprintf(stderr, "evtls-load: internal error: no move for a slot from %s to %s\n",
                slot_states[from].name, slot_states[to].name);
#ifndef NDEBUG
        abort(); /* a debug build stops at the bug */
#else
        lt_stats_error(&s->w->st, EVTLS_ERR_INTERNAL);
#endif
    }
    s->state = to;
    if (to == S_BACKOFF)
        lt_arm(s->backoff_ev, lt_now_us() + (uint64_t)s->backoff_ms * 1000);
}

/* ---- connections */

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)err; /* a close that timed out still closed */
    struct slot *s = arg;
    count_bytes(s->w, c);
    s->c = NULL;
    slot_set(s, S_FREE);
    release(s);
}

static void close_conn(struct slot *s)
{
    lt_worker *w = s->w;
    slot_set(s, S_CLOSING);
    /* With resumption wanted, wait for the server's close: a TLS 1.3
     * server's tickets come after the handshake. */
    int rc = w->o->resume_ratio > 0 ? evtls_conn_shutdown(s->c, on_closed, s)
                                    : evtls_conn_close(s->c, on_closed, s);
    if (rc != 0) {
        count_bytes(w, s->c);
        evtls_conn_free(s->c);
        s->c = NULL;
        slot_set(s, S_FREE);
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
    slot_set(s, S_FREE);
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
    slot_set(s, S_FREE);
    lt_slots_push_free(s->w, s);
    lt_slots_try_start(s->w);
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
    slot_set(s, S_BACKOFF); /* its timer armed */
    return 1;
}

/* A new connection is up: its phases and its TLS, into st. */
static void note_connect_in(lt_worker *w, lt_stats *st, evtls_conn *c, uint64_t connect_us)
{
    const evtls_conn_info *i = evtls_conn_get_info(c);
    st->conns_ok++;
    st->offered += i->session_offered != 0;
    st->resumed += i->resumed != 0;
    lt_stats_tls(st, i->tls_version, i->cipher, i->group);
    rec(w, st, LT_DNS, i->dns_us);
    /* TCP counts from the first connect() call (the winning attempt's start
     * after it, plus its own time); what came before, with the addresses
     * known, is the client's own queue: tcp_wait. */
    uint64_t tcp = i->tcp_us;
    for (unsigned k = 0; k < i->n_attempt_info; k++)
        if (i->attempt[k].outcome == EVTLS_ATTEMPT_WON)
            tcp = (uint64_t)i->attempt[k].start_us + i->attempt[k].duration_us;
    rec(w, st, LT_TCP_WAIT, i->tcp_us > tcp ? i->tcp_us - tcp : 0);
    rec(w, st, LT_TCP, tcp < i->tcp_us ? tcp : i->tcp_us);
    rec(w, st, LT_TLS, i->tls_us);
    rec(w, st, LT_CONNECT, connect_us);
}

static void note_connect(struct slot *s, evtls_conn *c, uint64_t connect_us)
{
    lt_worker *w = s->w;
    for (EACH_ST(s, st))
        note_connect_in(w, st, c, connect_us);
}

static void on_connected(evtls_conn *c, int err, void *arg)
{
    struct slot *s = arg;
    lt_worker *w = s->w;
    uint64_t now = lt_now_us();
    count_attempts(w, c);
    if (err) {
        for (EACH_ST(s, st)) {
            st->conns_failed++;
            lt_stats_error(st, err);
        }
        drop_conn(s);
        record_op(w, s, err);
        if (w->o->mode == LT_MODE_HOLD) {
            slot_set(s, S_DEAD);
            w->busy--;
            lt_slots_try_start(w);
        } else if (!back_off(s)) {
            release(s);
        }
        return;
    }
    s->backoff_ms = 0;
    conn_opened(w, c);
    note_connect(s, c, now - s->conn_start);
    if (s->early_req) {
        const evtls_conn_info *i = evtls_conn_get_info(c);
        w->st.early_accepted += i->early_data == EVTLS_EARLY_DATA_ACCEPTED;
        w->st.early_rejected += i->early_data == EVTLS_EARLY_DATA_REJECTED;
        w->st.early_not_sent += i->early_data == EVTLS_EARLY_DATA_NOT_SENT;
        w->st.early_bytes += i->early_data_bytes;
        s->early_accepted = i->early_data == EVTLS_EARLY_DATA_ACCEPTED;
    }
    switch (w->o->mode) {
    case LT_MODE_HANDSHAKE:
        record_op(w, s, 0);
        close_conn(s);
        return;
    case LT_MODE_HOLD:
        record_op(w, s, 0);
        slot_set(s, S_HELD);
        w->busy--;
        atomic_fetch_add_explicit(&w->a_held, 1, memory_order_relaxed);
        lt_slots_try_start(w);
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
    slot_set(s, S_CONNECTING);
    s->conn_start = lt_now_us();
    s->early_req = s->early_accepted = 0;
    struct lt_group *g = &w->groups[s->group];
    s->c = evtls_conn_new(w->base, g->cfg);
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
        /* Of the offers, the share --early-data-ratio sends the
         * operation's request as early data, spread the same way. */
        double e = (double)w->early_offers, er = o->early_ratio;
        w->early_offers += (uint64_t)offer;
        if (err == 0 && offer && !s->too_early && floor((e + 1) * er) > floor(e * er)) {
            s->early_req = 1;
            err = evtls_http_req_send_early(s->req, s->c);
        }
    }
    const char *host = g->dial_host;
    if (g->n_addrs) {
        host = g->addrs[g->next_addr];
        g->next_addr = (g->next_addr + 1) % g->n_addrs;
    }
    if (err == 0)
        err = evtls_conn_connect(s->c, host, g->dial_port, on_connected, s);
    if (err != 0) {
        /* It failed before any I/O: report it like a failed connect, from
         * here (the callback was not and will not be called). */
        on_connected(s->c, err, s);
    }
}

/* A response came: its status, body and time to first byte are counted,
 * and the operation (a 4xx or 5xx fails it). */
static void run_checks(lt_worker *w, struct slot *s, const evtls_http_resp *r);

static void count_response(lt_worker *w, struct slot *s, const evtls_http_resp *r)
{
    int status = evtls_http_resp_get_status(r);
    s->status = status;
    uint64_t ttfb = evtls_http_resp_get_ttfb_us(r);
    /* --expect-status (the target's own first) says what is success; by
     * default, below 400 */
    const lt_target *t = w->o->targets ? &w->o->targets->t[s->target] : NULL;
    const uint8_t *expect = t && t->expect_status_given ? t->expect_status
                            : w->o->expect_status_given ? w->o->expect_status
                                                        : NULL;
    int ok = expect ? status >= 100 && status < 600 && expect[status] : status < 400;
    int over_h2 = strcmp(evtls_http_resp_get_protocol(r), "HTTP/2") == 0;
    uint64_t body = evtls_http_resp_get_body_bytes(r);
    for (EACH_ST(s, st)) {
        st->h2_responses += over_h2;
        st->body_bytes += body;
        st->status[status / 100 < 6 ? status / 100 : 0]++;
        if (status >= 100 && status < 600)
            st->codes[status]++;
        rec(w, st, LT_TTFB, ttfb);
        if (s->reqs == 1 && !h2(w)) /* a new connection's first: from its connect's start */
            rec(w, st, LT_TTFB_CONN, s->x_start + ttfb - s->conn_start);
        st->reqs_ok += ok;
        st->reqs_failed += !ok;
        st->status_errors += !ok;
    }
    if (w->o->metrics_listen && w->warm_left == 0) {
        atomic_fetch_add_explicit(&w->a_status[status / 100 < 6 ? status / 100 : 0], 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&w->a_body_bytes, body, memory_order_relaxed);
    }
    run_checks(w, s, r);
    if (w->script && lt_script_wants_response(w->script)) {
        char err[600];
        if (lt_script_response(w->script, r, s->body, s->body_len, err, sizeof err) != 0)
            script_failed(w, err);
        else if (lt_script_stop_asked(w->script))
            w->stopping = 1;
    }
    s->body_len = 0;
    record_op(w, s, ok ? 0 : -1);
}

/* ---- HTTP/2: each slot a stream, the connections the pool's */

static void start_stream(struct slot *s);
static void h2_done(struct slot *s, int err, const evtls_http_resp *r);

/* A connection of the pool is done: what it counted. The worker keeps
 * the ones it has seen (the pool frees them at its own free without
 * naming them). */
static void conn_counted(lt_worker *w, evtls_conn *c)
{
    count_bytes(w, c);
    count_attempts(w, c);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    w->st.h2_conns += strcmp(i->alpn, "h2") == 0 || w->o->tls.http2 == EVTLS_HTTP2_PRIOR_KNOWLEDGE;
    if (i->h2_peer_max_streams > w->st.h2_peer_max_streams)
        w->st.h2_peer_max_streams = i->h2_peer_max_streams;
}

void lt_slot_conn_gone(lt_worker *w, evtls_conn *c)
{
    for (size_t i = 0; i < w->n_seen; i++)
        if (w->seen[i] == c) {
            w->seen[i] = w->seen[--w->n_seen];
            conn_counted(w, c);
            return;
        }
}

static void on_stream(evtls_pool *p, evtls_conn *c, int err, const evtls_checkout_info *ci,
                      void *arg)
{
    (void)p;
    struct slot *s = arg;
    lt_worker *w = s->w;
    s->co = NULL;
    if (err) { /* its connect failed (a stream is waited for without a limit) */
        for (EACH_ST(s, st)) {
            st->conns_failed++;
            lt_stats_error(st, err);
        }
        record_op(w, s, err);
        slot_set(s, S_FREE);
        if (!back_off(s))
            release(s);
        return;
    }
    s->backoff_ms = 0;
    s->stream_at = lt_now_us(); /* counted once, for the try that ends the operation */
    /* A new connection's phases, once however many streams it carries
     * (the connection's userdata marks it counted). */
    if (evtls_conn_get_userdata(c) == NULL) {
        conn_opened(w, c);
        note_connect(s, c, ci->connect_us);
        evtls_conn **seen =
            w->n_seen < w->cap_seen
                ? w->seen
                : realloc(w->seen, (w->cap_seen ? 2 * w->cap_seen : 16) * sizeof *seen);
        if (seen && seen != w->seen) {
            w->seen = seen;
            w->cap_seen = w->cap_seen ? 2 * w->cap_seen : 16;
        }
        if (seen)
            w->seen[w->n_seen++] = c;
    }
    s->c = c;
    slot_set(s, S_EXCHANGE);
    s->body_found = 0;
    s->carry_len = 0;
    s->body_len = 0;
    int rc = evtls_http_exchange_start(s->c, s->req, &w->hopts, &w->cbs, s, &s->x);
    if (rc)
        h2_done(s, rc, NULL);
}

/* The stream ended. In the closed loop, with operations left, the slot
 * keeps its share of the connection for its next one, which starts at
 * once (as h2load's client keeps its connection), while the session takes
 * streams; else the share goes back to the pool: a share kept by a slot
 * that waits would keep a connection the server is closing (GOAWAY) from
 * ever going. The operation is counted or, never processed by the server,
 * sent again. */
static void h2_done(struct slot *s, int err, const evtls_http_resp *r)
{
    lt_worker *w = s->w;
    int keep =
        r && evtls_http_resp_get_keep_alive(r) && !w->stopping && w->o->rate == 0 && budget_left(w);
    if (!keep) {
        evtls_pool_release(w->groups[s->group].pool, s->c);
        s->c = NULL;
    }
    /* never processed by the server: sent again (another connection when
     * this one is going away), whatever the method */
    if ((err == EVTLS_ERR_H2_REFUSED || (err == EVTLS_ERR_STATE && r == NULL)) && !w->o->no_retry &&
        s->refused < 5 && !w->stopping) {
        w->st.h2_refused += err == EVTLS_ERR_H2_REFUSED && r != NULL;
        s->refused++;
        if (s->c) {
            evtls_pool_checkin(w->groups[s->group].pool, s->c);
            s->c = NULL;
        }
        slot_set(s, S_FREE);
        start_stream(s);
        return;
    }
    s->reqs_all++;
    if (s->stream_at)
        rec(w, &w->st, LT_STREAM_WAIT, s->stream_at - s->op_start);
    s->stream_at = 0;
    slot_set(s, s->c ? S_IDLE_CONN : S_FREE);
    if (err) {
        for (EACH_ST(s, st)) {
            st->reqs_failed++;
            lt_stats_error(st, err);
        }
        record_op(w, s, err);
        release(s);
        return;
    }
    count_response(w, s, r);
    release(s);
}

/* The next operation on the slot's share of a connection. */
static void start_on_stream(struct slot *s)
{
    lt_worker *w = s->w;
    slot_set(s, S_EXCHANGE);
    s->stream_at = lt_now_us(); /* counted once, for the try that ends the operation */
    s->body_found = 0;
    s->carry_len = 0;
    s->body_len = 0;
    int rc = evtls_http_exchange_start(s->c, s->req, &w->hopts, &w->cbs, s, &s->x);
    if (rc)
        h2_done(s, rc, NULL); /* the connection went away meanwhile: another stream */
}

/* The operation asks the pool for a stream. */
static void start_stream(struct slot *s)
{
    lt_worker *w = s->w;
    slot_set(s, S_CONNECTING);
    struct lt_group *g = &w->groups[s->group];
    int rc = evtls_pool_checkout(g->pool, g->cfg, g->dial_host, g->dial_port, on_stream, s, &s->co);
    if (rc != 0) {
        s->co = NULL;
        on_stream(g->pool, NULL, rc, NULL, s);
    }
}

/* ---- requests */

/* --script's response(): the body kept (up to the exchange's limit). */
static void keep_body(struct slot *s, const uint8_t *data, size_t len)
{
    if (s->body_len + len > s->body_cap) {
        size_t cap = s->body_cap ? s->body_cap : 4096;
        while (cap < s->body_len + len)
            cap *= 2;
        char *b = realloc(s->body, cap);
        if (b == NULL)
            return; /* the body given to response() stops here */
        s->body = b;
        s->body_cap = cap;
    }
    memcpy(s->body + s->body_len, data, len);
    s->body_len += len;
}

int lt_slot_on_body(evtls_http_exchange *x, const uint8_t *data, size_t len, void *arg)
{
    (void)x;
    struct slot *s = arg;
    if (s->w->script && lt_script_wants_response(s->w->script))
        keep_body(s, data, len);
    const char *want = s->w->o->expect_body;
    if (want == NULL || s->body_found || len == 0)
        return 0; /* counted by the response; not kept */
    /* --expect-body: a match may span pieces: the last n-1 bytes before
     * this piece are kept and searched with its first n-1 */
    size_t n = strlen(want);
    uint8_t joint[512];
    size_t head = len < n - 1 ? len : n - 1;
    memcpy(joint, s->carry, s->carry_len);
    memcpy(joint + s->carry_len, data, head);
    if (memmem(joint, s->carry_len + head, want, n) || memmem(data, len, want, n)) {
        s->body_found = 1;
        return 0;
    }
    size_t total = s->carry_len + len, keep = total < n - 1 ? total : n - 1;
    if (len >= keep) {
        memcpy(s->carry, data + len - keep, keep);
    } else { /* the carry's tail, then all of this piece */
        memmove(s->carry, s->carry + s->carry_len - (keep - len), keep - len);
        memcpy(s->carry + keep - len, data, len);
    }
    s->carry_len = keep;
    return 0;
}

/* --expect-body and --expect-header on a response: each a check, counted
 * apart from errors (k6's checks). */
static void run_checks(lt_worker *w, struct slot *s, const evtls_http_resp *r)
{
    const lt_opts *o = w->o;
    if (o->expect_body)
        for (EACH_ST(s, st)) {
            st->checks++;
            st->checks_failed += !s->body_found;
        }
    if (o->expect_header) {
        const char *colon = strchr(o->expect_header, ':'), *want = colon + 1;
        char name[128];
        size_t nl = (size_t)(colon - o->expect_header);
        while (*want == ' ' || *want == '\t')
            want++;
        snprintf(name, sizeof name, "%.*s", (int)(nl < sizeof name ? nl : sizeof name - 1),
                 o->expect_header);
        const char *got = evtls_http_resp_get_header_value(r, name);
        for (EACH_ST(s, st)) {
            st->checks++;
            st->checks_failed += got == NULL || strcmp(got, want) != 0;
        }
    }
    s->body_found = 0;
    s->carry_len = 0;
    atomic_store_explicit(&w->a_checks, w->st.checks, memory_order_relaxed);
    atomic_store_explicit(&w->a_checks_failed, w->st.checks_failed, memory_order_relaxed);
}

void lt_slot_on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct slot *s = arg;
    lt_worker *w = s->w;
    s->x = NULL;
    if (h2(w)) {
        h2_done(s, err, r);
        return;
    }
    s->reqs++;
    s->reqs_all++;
    /* The keep-alive race (the library's rule, as the client applies it):
     * the same operation again, once, on a new connection. */
    if (err && !w->o->no_retry && !s->retried &&
        evtls_http_retry_safe(s->req, err, r, s->reqs > 1)) {
        for (EACH_ST(s, st))
            st->retried++;
        s->retried = 1;
        s->reqs_all--;
        drop_conn(s);
        s->reqs = 0;
        start_connect(s);
        return;
    }
    if (err) {
        for (EACH_ST(s, st)) {
            st->reqs_failed++;
            lt_stats_error(st, err);
        }
        record_op(w, s, err);
        drop_conn(s); /* its state is unknown: not reused */
        release(s);
        return;
    }
    /* 425 Too Early (RFC 8470 section 5.2): the server would not act on
     * the request in early data; it goes again once, on a new connection,
     * after the handshake (one operation, its time from the first try). */
    if (evtls_http_resp_get_status(r) == 425 && s->early_accepted && s->reqs == 1 &&
        !s->too_early && !w->stopping) {
        w->st.early_425++;
        s->too_early = 1;
        s->reqs_all--;
        drop_conn(s);
        s->reqs = 0;
        start_connect(s);
        return;
    }
    s->too_early = 0;
    count_response(w, s, r);
    unsigned rpc = w->o->reqs_per_conn;
    if (evtls_http_resp_get_keep_alive(r) && (rpc == 0 || s->reqs < rpc) && !w->stopping) {
        slot_set(s, S_IDLE_CONN);
        release(s);
    } else {
        close_conn(s);
    }
}

static void start_exchange(struct slot *s)
{
    lt_worker *w = s->w;
    slot_set(s, S_EXCHANGE);
    s->early_req = 0;
    s->x_start = lt_now_us();
    s->body_found = 0;
    s->carry_len = 0;
    s->body_len = 0;
    int err = evtls_http_exchange_start(s->c, s->req, &w->hopts, &w->cbs, s, &s->x);
    if (err)
        lt_slot_on_done(NULL, err, NULL, s);
}

/* ---- --conn-stages */

/* A slot that left: a connection kept between operations is closed (the
 * close counted as busy until it ends). */
static void park(struct slot *s)
{
    if (s->c && s->state == S_IDLE_CONN) {
        s->w->busy++;
        close_conn(s);
    }
}

/* The slot's next join or leave, now. */
static void stage_step(struct slot *s)
{
    lt_worker *w = s->w;
    if (w->stopping || s->next_ev >= s->n_ev)
        return;
    int join = s->ev_join[s->next_ev++];
    event_del(s->stage_ev);
    if (s->next_ev < s->n_ev)
        lt_arm(s->stage_ev, s->ev_at[s->next_ev]);
    if (join) {
        s->parked = 0;
        lt_slots_push_free(w, s);
        lt_slots_try_start(w);
        return;
    }
    s->parked = 1;
    struct slot **p = &w->groups[s->group].free; /* free now: off the list */
    while (*p && *p != s)
        p = &(*p)->next_free;
    if (*p) {
        *p = s->next_free;
        park(s);
    } /* else its operation runs: it parks when it ends */
}

void lt_slot_stage_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    stage_step(arg);
}

/* A slot about to start an operation whose leave is due already (its
 * timer not yet run): it leaves first. Returns 1 when it left. */
static int leave_due(struct slot *s)
{
    if (s->next_ev >= s->n_ev || s->ev_join[s->next_ev] || s->ev_at[s->next_ev] > lt_now_us())
        return 0;
    stage_step(s); /* off the free list already: parked here, its connection closed */
    park(s);
    return 1;
}

/* ---- the loop */

/* Operation start on slot s: its request is the URLs' next in turn, or
 * (--targets) target's; a retry or a resend keeps it. */
/* The script's next request for the slot's operation (its reference
 * kept by the slot until the next). Returns 0, or -1 after a script
 * error. */
static int script_request(struct slot *s)
{
    lt_worker *w = s->w;
    char err[600];
    lt_sreq *r = lt_script_request(w->script, err, sizeof err);
    if (r == NULL) {
        script_failed(w, err);
        return -1;
    }
    lt_sreq_unref(s->sreq);
    s->sreq = r;
    s->req = r->req;
    if (lt_script_stop_asked(w->script))
        w->stopping = 1; /* thread:stop(): this one goes, no other starts */
    return 0;
}

static int start_op(struct slot *s, uint64_t start, unsigned target)
{
    lt_worker *w = s->w;
    if (w->script) {
        if (script_request(s) != 0)
            return -1;
    } else if (w->o->targets)
        s->req = w->reqs[s->target = target];
    else if (w->n_reqs)
        s->req = w->reqs[w->next_req++ % w->n_reqs];
    w->started++;
    w->busy++;
    s->has_op = 1;
    s->retried = 0;
    s->refused = 0;
    s->op_start = start;
    if (h2(w) && s->state == S_IDLE_CONN)
        start_on_stream(s);
    else if (h2(w))
        start_stream(s);
    else if (s->state == S_IDLE_CONN)
        start_exchange(s);
    else
        start_connect(s);
    return 0;
}

static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct slot *s = arg;
    lt_slots_push_free(s->w, s);
    lt_slots_try_start(s->w);
}

/* --script's delay() before the slot's next operation (the closed loop's;
 * the open loop keeps its schedule): 1 when the slot now waits. */
static int script_delay(struct slot *s)
{
    lt_worker *w = s->w;
    if (w->o->rate > 0 || s->delayed) {
        s->delayed = 0;
        return 0;
    }
    unsigned ms;
    char err[600];
    if (lt_script_delay(w->script, &ms, err, sizeof err) != 0) {
        script_failed(w, err);
        return 0;
    }
    if (ms == 0 ||
        (s->delay_ev == NULL && (s->delay_ev = evtimer_new(w->base, delay_cb, s)) == NULL))
        return 0;
    s->delayed = 1;
    lt_arm(s->delay_ev, lt_now_us() + (uint64_t)ms * 1000);
    return 1;
}

/* --targets: the next operation of group g's (the worker's k-th of the
 * one weighted sequence, whose target is one of g's), when one may start
 * now: its start time, and its target in *target; 0 for none. In the open
 * loop the operations due, in the closed loop any (each group walks the
 * sequence at its own pace; with -n to the same end, so that every target
 * gets exactly its draws). */
static uint64_t next_group_op(lt_worker *w, struct lt_group *g, unsigned *target)
{
    if (w->stopping)
        return 0;
    uint64_t limit = w->o->rate > 0 ? w->due : UINT64_MAX;
    if (w->sh.total && w->sh.total < limit)
        limit = w->sh.total;
    unsigned me = (unsigned)(g - w->groups);
    for (; g->cursor < limit; g->cursor++) {
        unsigned t = lt_draw_at(&g->draw, lt_schedule_global(&w->sched, g->cursor));
        if (w->o->target_origin[t] == me) {
            *target = t;
            uint64_t k = g->cursor++;
            return w->o->rate > 0 ? lt_sched_us(w, k) : lt_now_us();
        }
    }
    return 0;
}

void lt_slots_try_start(lt_worker *w)
{
    uint64_t start;
    unsigned target = 0;
    for (unsigned i = 0; i < w->n_groups; i++) {
        struct lt_group *g = &w->groups[i];
        while (g->free &&
               (start = w->o->targets ? next_group_op(w, g, &target) : next_op(w)) != 0) {
            struct slot *s = g->free;
            g->free = s->next_free;
            if (w->o->stages_conns && leave_due(s))
                continue;
            if (w->script && script_delay(s))
                continue; /* back on the free list when its delay is over */
            if (w->stopping || start_op(s, start, target) != 0) {
                lt_slots_push_free(w, s); /* a script error: the run ends */
                break;
            }
        }
    }
    if (w->o->rate > 0)
        atomic_store_explicit(&w->a_backlog, w->due > w->started ? w->due - w->started : 0,
                              memory_order_relaxed);
    atomic_store_explicit(&w->a_in_flight, w->busy, memory_order_relaxed);
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
                lt_arm(w->end_timer, lt_now_us() + w->o->duration_us);
        }
        /* Hold mode ends with -d or a signal, unless nothing is held. */
        if (!more && (w->o->mode != LT_MODE_HOLD ||
                      atomic_load_explicit(&w->a_held, memory_order_relaxed) == 0))
            lt_slots_finish(w);
    }
}

void lt_arm(struct event *ev, uint64_t at_us)
{
    uint64_t now = lt_now_us(), d = at_us > now ? at_us - now : 0;
    struct timeval tv = {(time_t)(d / 1000000), (suseconds_t)(d % 1000000)};
    event_add(ev, &tv);
}

/* Ends the run: operations in flight are abandoned, connections closed. */
void lt_slots_finish(lt_worker *w)
{
    if (w->finished)
        return;
    w->finished = w->stopping = 1;
    w->st.offers_missed = w->offers_owed;
    if (w->o->rate > 0) {
        /* The open loop's schedule up to now: what came due and never
         * started (no free connection in time; k6's dropped iterations). */
        uint64_t now = lt_now_us();
        while ((w->sh.total == 0 || w->due < w->sh.total) && lt_sched_us(w, w->due) <= now)
            w->due++;
        w->st.due = w->due;
        w->st.never_started = w->due > w->started ? w->due - w->started : 0;
    }
    for (unsigned i = 0; i < w->active; i++) {
        struct slot *s = &w->slots[i];
        if (s->backoff_ev)
            event_del(s->backoff_ev);
        if (s->delay_ev)
            event_del(s->delay_ev);
        if (s->stage_ev)
            event_del(s->stage_ev);
        lt_sreq_unref(s->sreq);
        s->sreq = NULL;
        if (s->reqs_all < w->st.slot_reqs_min)
            w->st.slot_reqs_min = s->reqs_all;
        if (s->reqs_all > w->st.slot_reqs_max)
            w->st.slot_reqs_max = s->reqs_all;
        if (s->has_op)
            w->unfinished++;
        if (s->co)
            evtls_pool_cancel(s->co);
        s->co = NULL;
        if (s->x)
            evtls_http_exchange_cancel(s->x);
        s->x = NULL;
        if (s->c && h2(w)) {
            evtls_pool_checkin(w->groups[s->group].pool, s->c); /* its stream was reset */
            s->c = NULL;
        }
        if (s->c) {
            count_bytes(w, s->c);
            evtls_conn_free(s->c); /* one try at close_notify; no callbacks */
            s->c = NULL;
        }
    }
    if (h2(w)) { /* its connections close: what each counted first */
        for (size_t i = 0; i < w->n_seen; i++)
            conn_counted(w, w->seen[i]);
        w->n_seen = 0;
        for (unsigned g = 0; g < w->n_groups; g++) {
            evtls_pool_free(w->groups[g].pool);
            w->groups[g].pool = NULL;
        }
    }
    event_base_loopbreak(w->base);
}
