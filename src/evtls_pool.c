/* evtls_pool.c - connections per origin: idle stacks, FIFO waiters,
 * limits, expiry, resumption through a shared session cache.
 *
 * Each origin keeps its idle connections in a list, most recently used at
 * the head (reuse is O(1) from the head, expiry pops from the tail) and
 * its waiting checkouts in a FIFO. Checkout records are recycled through
 * a free list, so reusing an idle connection allocates nothing. Results
 * are delivered through each record's own event, never inside an API
 * call. */
#include <event2/event.h>
#include <event2/event_struct.h>

#include <stdio.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evtls/pool.h"
#include "evtls_log_int.h"
#include "evtls_resolver_int.h"
#include "evtls_time.h"
#include <stddef.h>

#define BUCKETS      256
#define SWEEP_MAX_MS 1000
#define KEY_MAX      320

struct origin;

struct entry {
    TAILQ_ENTRY(entry) link; /* in the origin's idle list or its active list */
    struct origin *o;
    evtls_pool *p;
    evtls_conn *c;
    evtls_pool_conn_state st;
    unsigned uses;
    uint64_t born_us, idle_since_us, connect_start_us;
};

struct evtls_checkout {
    TAILQ_ENTRY(evtls_checkout) link; /* in the wait queue */
    struct evtls_checkout *free_next; /* in the free list */
    struct origin *o;
    evtls_pool *p;
    evtls_checkout_cb cb;
    void *arg;
    struct event ev; /* wait timeout, then delivery */
    uint64_t t0_us;
    struct entry *e; /* assigned connection, delivery pending */
    int err;         /* error to deliver */
    int queued;
    uint64_t connect_us;
    int fresh; /* e is a new connection */
};

struct origin {
    struct origin *hnext;
    evtls_pool *p;
    evtls_cfg *cfg;
    char *host;
    uint16_t port;
    char key[KEY_MAX];
    TAILQ_HEAD(entry_list, entry) idle;   /* most recently used first */
    TAILQ_HEAD(, entry) active;           /* connecting or busy */
    TAILQ_HEAD(, evtls_checkout) waiters; /* FIFO */
    evtls_pool_stats st;                  /* its gauges and counters */
};

struct evtls_pool {
    struct event_base *base;
    evtls_pool_opts o;
    evtls_resolver *resolver;
    evtls_session_cache *sessions;
    struct origin *buckets[BUCKETS];
    struct evtls_checkout *free_cos;
    unsigned total;   /* pooled connections (idle, busy, connecting) */
    unsigned closing; /* graceful closes still running */
    evtls_pool_stats st;
    evtls_pool_state_cb state_cb;
    void *state_arg;
    struct event sweep;
    int shutting_down, freed;
    evtls_pool_shutdown_cb shutdown_cb;
    void *shutdown_arg;
    struct event shutdown_ev; /* completion, or the shutdown timeout */
    int shutdown_done;
};

void evtls_pool_opts_default(evtls_pool_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_per_origin = 8;
    o->max_total = 1024;
    o->idle_timeout_ms = 60000;
    o->wait_timeout_ms = 30000;
    o->resumption = 1;
}

/* ------------------------------------------------------------------ */
/* gauges: every change goes through here, for the pool and the origin */

#define GAUGE(o, field, delta)                                                                     \
    do {                                                                                           \
        (o)->st.field += (unsigned)(delta);                                                        \
        (o)->p->st.field += (unsigned)(delta);                                                     \
    } while (0)

#define COUNT(o, field, n)                                                                         \
    do {                                                                                           \
        (o)->st.field += (n);                                                                      \
        (o)->p->st.field += (n);                                                                   \
    } while (0)

static int is_active(evtls_pool_conn_state s)
{
    return s == EVTLS_POOL_CONNECTING || s == EVTLS_POOL_BUSY;
}

/* Moves e to state to: its list (idle, active or none) and the gauges. */
static void set_state(struct entry *e, evtls_pool_conn_state to)
{
    evtls_pool_conn_state from = e->st;
    struct origin *o = e->o;
    if (from == EVTLS_POOL_IDLE)
        TAILQ_REMOVE(&o->idle, e, link);
    else if (is_active(from))
        TAILQ_REMOVE(&o->active, e, link);
    if (to == EVTLS_POOL_IDLE)
        TAILQ_INSERT_HEAD(&o->idle, e, link);
    else if (is_active(to))
        TAILQ_INSERT_HEAD(&o->active, e, link);
    if (from == EVTLS_POOL_CONNECTING)
        GAUGE(o, connecting, -1);
    else if (from == EVTLS_POOL_IDLE)
        GAUGE(o, idle, -1);
    else if (from == EVTLS_POOL_BUSY)
        GAUGE(o, busy, -1);
    if (to == EVTLS_POOL_CONNECTING)
        GAUGE(o, connecting, 1);
    else if (to == EVTLS_POOL_IDLE)
        GAUGE(o, idle, 1);
    else if (to == EVTLS_POOL_BUSY)
        GAUGE(o, busy, 1);
    e->st = to;
    if (e->p->state_cb)
        e->p->state_cb(e->p, e->c, from, to, e->p->state_arg);
}

/* ------------------------------------------------------------------ */
/* origins */

static void make_key(char *key, const evtls_cfg *cfg, const char *host, uint16_t port)
{
    snprintf(key, KEY_MAX, "%p|%s|%u", (const void *)cfg, host, port);
}

static unsigned hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h % BUCKETS;
}

static struct origin *origin_find(const evtls_pool *p, const char *key)
{
    for (struct origin *o = p->buckets[hash(key)]; o; o = o->hnext)
        if (strcmp(o->key, key) == 0)
            return o;
    return NULL;
}

static struct origin *origin_get(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port)
{
    char key[KEY_MAX];
    make_key(key, cfg, host, port);
    struct origin *o = origin_find(p, key);
    if (o)
        return o;
    o = calloc(1, sizeof *o);
    if (o == NULL || (o->host = strdup(host)) == NULL) {
        free(o);
        return NULL;
    }
    o->p = p;
    TAILQ_INIT(&o->idle);
    TAILQ_INIT(&o->active);
    TAILQ_INIT(&o->waiters);
    o->cfg = evtls_cfg_ref(cfg);
    o->port = port;
    memcpy(o->key, key, KEY_MAX);
    unsigned b = hash(key);
    o->hnext = p->buckets[b];
    p->buckets[b] = o;
    return o;
}

/* ------------------------------------------------------------------ */
/* lists */

static void wait_unlink(struct evtls_checkout *co)
{
    struct origin *o = co->o;
    if (!co->queued)
        return;
    TAILQ_REMOVE(&o->waiters, co, link);
    co->queued = 0;
    GAUGE(o, waiting, -1);
}

static void co_recycle(struct evtls_checkout *co)
{
    evtls_pool *p = co->p;
    event_del(&co->ev);
    co->free_next = p->free_cos;
    p->free_cos = co;
}

/* ------------------------------------------------------------------ */
/* closing */

static void maybe_shutdown_done(evtls_pool *p);

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)c;
    (void)err;
    evtls_pool *p = arg;
    p->closing--;
    if (p->freed && p->closing == 0) {
        free(p);
        return;
    }
    maybe_shutdown_done(p);
}

/* Takes e out of the pool and closes its connection gracefully. */
static void entry_close(struct entry *e)
{
    evtls_pool *p = e->p;
    set_state(e, EVTLS_POOL_CLOSED);
    p->total--;
    if (e->c) {
        evtls_conn_set_userdata(e->c, NULL);
        if (evtls_conn_get_state(e->c) == EVTLS_STATE_CONNECTED &&
            evtls_conn_close(e->c, on_closed, p) == 0)
            p->closing++;
        else
            evtls_conn_abort(e->c);
    }
    free(e);
}

static void maybe_open(struct origin *o);
static void sweep_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_cb(evutil_socket_t fd, short what, void *arg);

/* Drops every connecting or busy connection of o at once (abort). */
static void abort_active(struct origin *o)
{
    struct entry *e;
    while ((e = TAILQ_FIRST(&o->active)) != NULL) {
        evtls_conn *c = e->c;
        e->c = NULL;
        set_state(e, EVTLS_POOL_CLOSED);
        o->p->total--;
        free(e);
        if (c) {
            evtls_conn_set_userdata(c, NULL);
            evtls_conn_abort(c);
        }
    }
}

/* ------------------------------------------------------------------ */
/* delivery */

static void deliver(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct evtls_checkout *co = arg;
    evtls_pool *p = co->p;
    struct origin *o = co->o;
    evtls_checkout_info ci = {0};
    uint64_t waited = evtls__now_us() - co->t0_us;
    evtls_conn *c = NULL;
    int err = co->err;
    if (co->e) {
        c = co->e->c;
        ci.reused = !co->fresh;
        ci.connect_us = co->connect_us;
        ci.resumed = co->fresh && evtls_conn_get_info(c)->resumed;
        ci.wait_us = waited > co->connect_us ? waited - co->connect_us : 0;
        COUNT(o, wait_us_total, ci.wait_us);
    } else if (err == 0) {
        /* The wait timer fired. */
        wait_unlink(co);
        err = EVTLS_ERR_POOL_WAIT_TIMEOUT;
        COUNT(o, wait_timeouts, 1);
        ci.wait_us = waited;
    }
    evtls_checkout_cb cb = co->cb;
    void *cb_arg = co->arg;
    co_recycle(co);
    cb(p, c, err, &ci, cb_arg);
}

/* Gives e (connected, now BUSY) to co and schedules the callback. */
static void assign(struct evtls_checkout *co, struct entry *e, int fresh, uint64_t connect_us)
{
    wait_unlink(co);
    e->uses++;
    co->e = e;
    co->fresh = fresh;
    co->connect_us = connect_us;
    if (!fresh)
        COUNT(e->o, reused, 1);
    set_state(e, EVTLS_POOL_BUSY);
    event_del(&co->ev);
    event_active(&co->ev, EV_TIMEOUT, 0);
}

static void fail_co(struct evtls_checkout *co, int err)
{
    wait_unlink(co);
    co->err = err;
    event_del(&co->ev);
    event_active(&co->ev, EV_TIMEOUT, 0);
}

static int expired(const evtls_pool *p, const struct entry *e, uint64_t now)
{
    if (p->o.max_lifetime_ms && now - e->born_us >= (uint64_t)p->o.max_lifetime_ms * 1000)
        return 1;
    if (p->o.max_uses && e->uses >= p->o.max_uses)
        return 1;
    return e->st == EVTLS_POOL_IDLE && p->o.idle_timeout_ms &&
           now - e->idle_since_us >= (uint64_t)p->o.idle_timeout_ms * 1000;
}

/* A connection is free (new, or back from a user): to the first waiter,
 * else idle. */
static void hand_over(struct entry *e, int fresh, uint64_t connect_us)
{
    struct origin *o = e->o;
    if (!TAILQ_EMPTY(&o->waiters)) {
        assign(TAILQ_FIRST(&o->waiters), e, fresh, connect_us);
        return;
    }
    e->idle_since_us = evtls__now_us();
    set_state(e, EVTLS_POOL_IDLE);
    unsigned max_idle = e->p->o.max_idle_per_origin;
    while (max_idle && o->st.idle > max_idle) {
        COUNT(o, expired, 1);
        entry_close(TAILQ_LAST(&o->idle, entry_list));
    }
}

/* ------------------------------------------------------------------ */
/* new connections */

static void on_connected(evtls_conn *c, int err, void *arg)
{
    struct entry *e = arg;
    struct origin *o = e->o;
    evtls_pool *p = e->p;
    uint64_t connect_us = evtls__now_us() - e->connect_start_us;
    if (err) {
        o->st.failed[evtls_err_get_class(err)]++;
        p->st.failed[evtls_err_get_class(err)]++;
        e->c = NULL;
        set_state(e, EVTLS_POOL_CLOSED);
        p->total--;
        free(e);
        evtls_conn_free(c);
        /* The checkout first in line gets the error: waiting on would only
         * repeat it. */
        if (!TAILQ_EMPTY(&o->waiters))
            fail_co(TAILQ_FIRST(&o->waiters), err);
        maybe_open(o);
        maybe_shutdown_done(p);
        return;
    }
    COUNT(o, created, 1);
    const evtls_conn_info *i = evtls_conn_get_info(c);
    if (i->resumed)
        COUNT(o, resumed, 1);
    if (i->session_offered && !i->resumed)
        COUNT(o, resume_refused, 1);
    if (p->shutting_down) {
        entry_close(e);
        return;
    }
    hand_over(e, 1, connect_us);
}

static int open_conn(struct origin *o)
{
    evtls_pool *p = o->p;
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return EVTLS_ERR_NOMEM;
    e->o = o;
    e->p = p;
    e->st = EVTLS_POOL_CLOSED;
    e->c = evtls_conn_new(p->base, o->cfg);
    if (e->c == NULL) {
        free(e);
        return EVTLS_ERR_NOMEM;
    }
    if (p->resolver == NULL)
        p->resolver = evtls_resolver_new(p->base, NULL);
    if (p->resolver)
        evtls_conn_set_resolver(e->c, p->resolver);
    if (p->o.resumption)
        evtls_conn_set_session_cache(e->c, p->sessions);
    evtls_conn_set_userdata(e->c, e);
    e->born_us = e->connect_start_us = evtls__now_us();
    p->total++;
    set_state(e, EVTLS_POOL_CONNECTING);
    int rc = evtls_conn_connect(e->c, o->host, o->port, on_connected, e);
    if (rc != 0) {
        evtls_conn_free(e->c);
        e->c = NULL;
        set_state(e, EVTLS_POOL_CLOSED);
        p->total--;
        free(e);
        return rc;
    }
    return 0;
}

/* Opens connections while waiters (or the warm-up minimum) need them and
 * the limits allow. */
static void maybe_open(struct origin *o)
{
    evtls_pool *p = o->p;
    if (p->shutting_down)
        return;
    for (;;) {
        unsigned have = o->st.idle + o->st.busy + o->st.connecting;
        int need = o->st.waiting > o->st.connecting || have < p->o.min_idle_per_origin;
        if (!need || have >= p->o.max_per_origin || p->total >= p->o.max_total)
            return;
        int rc = open_conn(o);
        if (rc != 0) {
            if (!TAILQ_EMPTY(&o->waiters))
                fail_co(TAILQ_FIRST(&o->waiters), rc);
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* public */

evtls_pool *evtls_pool_new(struct event_base *base, const evtls_pool_opts *opts)
{
    if (base == NULL)
        return NULL;
    evtls_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->base = base;
    if (opts)
        p->o = *opts;
    else
        evtls_pool_opts_default(&p->o);
    if (p->o.max_per_origin == 0)
        p->o.max_per_origin = 8;
    if (p->o.max_total == 0)
        p->o.max_total = 1024;
    if (p->o.max_idle_per_origin == 0)
        p->o.max_idle_per_origin = p->o.max_per_origin;
    p->sessions = evtls_session_cache_new(0);
    if (p->sessions == NULL) {
        free(p);
        return NULL;
    }
    event_assign(&p->sweep, base, -1, 0, sweep_cb, p);
    event_assign(&p->shutdown_ev, base, -1, 0, shutdown_cb, p);
    return p;
}

int evtls_pool_set_resolver(evtls_pool *p, evtls_resolver *r)
{
    if (p == NULL || r == NULL)
        return EVTLS_ERR_INVALID_ARG;
    evtls_resolver_free(p->resolver);
    p->resolver = evtls__resolver_ref(r);
    return 0;
}

evtls_session_cache *evtls_pool_session_cache(evtls_pool *p)
{
    return p ? p->sessions : NULL;
}

void evtls_pool_set_state_cb(evtls_pool *p, evtls_pool_state_cb cb, void *arg)
{
    if (p) {
        p->state_cb = cb;
        p->state_arg = arg;
    }
}

/* Closes idle connections past the idle timeout, oldest first, from each
 * origin's tail: the work is proportional to what expires. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_pool *p = arg;
    uint64_t now = evtls__now_us();
    for (int b = 0; b < BUCKETS; b++)
        for (struct origin *o = p->buckets[b]; o; o = o->hnext) {
            struct entry *oldest;
            while ((oldest = TAILQ_LAST(&o->idle, entry_list)) && expired(p, oldest, now)) {
                COUNT(o, expired, 1);
                entry_close(oldest);
            }
            maybe_open(o); /* warm-up minimum */
        }
    if (p->st.idle > 0 || p->o.min_idle_per_origin) {
        unsigned ms = p->o.idle_timeout_ms / 4;
        ms = ms == 0 || ms > SWEEP_MAX_MS ? SWEEP_MAX_MS : ms < 10 ? 10 : ms;
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
        event_add(&p->sweep, &tv);
    }
}

static void arm_sweep(evtls_pool *p)
{
    if (!event_pending(&p->sweep, EV_TIMEOUT, NULL) && p->o.idle_timeout_ms)
        sweep_cb(-1, 0, p);
}

static struct evtls_checkout *co_alloc(evtls_pool *p)
{
    struct evtls_checkout *co = p->free_cos;
    if (co) {
        p->free_cos = co->free_next;
    } else {
        co = malloc(sizeof *co);
        if (co == NULL)
            return NULL;
    }
    memset(co, 0, sizeof *co);
    co->p = p;
    event_assign(&co->ev, p->base, -1, 0, deliver, co);
    return co;
}

/* Checks the arguments shared by checkout and prewarm and finds (or
 * makes) the origin. Returns 0 with *out set, or an error. */
static int origin_for(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port,
                      struct origin **out)
{
    if (p == NULL || cfg == NULL || host == NULL || port == 0)
        return EVTLS_ERR_INVALID_ARG;
    if (p->shutting_down)
        return EVTLS_ERR_POOL_CLOSED;
    if (evtls_cfg_build(cfg) != 0)
        return EVTLS_ERR_BAD_CONFIG;
    *out = origin_get(p, cfg, host, port);
    return *out ? 0 : EVTLS_ERR_NOMEM;
}

int evtls_pool_checkout(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port,
                        evtls_checkout_cb cb, void *arg, evtls_checkout **handle)
{
    if (handle)
        *handle = NULL;
    if (cb == NULL)
        return EVTLS_ERR_INVALID_ARG;
    struct origin *o;
    int rc = origin_for(p, cfg, host, port, &o);
    if (rc != 0)
        return rc;
    struct evtls_checkout *co = co_alloc(p);
    if (co == NULL)
        return EVTLS_ERR_NOMEM;
    co->o = o;
    co->cb = cb;
    co->arg = arg;
    co->t0_us = evtls__now_us();
    COUNT(o, checkouts, 1);
    if (handle)
        *handle = co;
    /* Reuse: the most recently used idle connection that is still alive. */
    struct entry *e;
    while ((e = TAILQ_FIRST(&o->idle)) != NULL) {
        if (expired(p, e, co->t0_us)) {
            COUNT(o, expired, 1);
        } else if (!evtls_conn_check_alive(e->c)) {
            COUNT(o, dead_idle, 1);
        } else {
            assign(co, e, 0, 0);
            return 0;
        }
        entry_close(e);
    }
    /* Wait in line for a new or returned connection. */
    co->queued = 1;
    TAILQ_INSERT_TAIL(&o->waiters, co, link);
    GAUGE(o, waiting, 1);
    if (p->o.wait_timeout_ms) {
        struct timeval tv = {(time_t)(p->o.wait_timeout_ms / 1000),
                             (suseconds_t)(p->o.wait_timeout_ms % 1000) * 1000};
        event_add(&co->ev, &tv);
    }
    maybe_open(o);
    return 0;
}

void evtls_pool_cancel(evtls_checkout *co)
{
    if (co == NULL)
        return;
    struct entry *e = co->e;
    wait_unlink(co);
    co_recycle(co);
    if (e) /* assigned but not delivered: it goes back */
        hand_over(e, 0, 0);
}

int evtls_pool_checkin(evtls_pool *p, evtls_conn *c)
{
    struct entry *e = evtls_conn_get_userdata(c);
    if (p == NULL || e == NULL || e->p != p || e->st != EVTLS_POOL_BUSY)
        return EVTLS_ERR_INVALID_ARG;
    if (p->shutting_down || evtls_conn_get_state(c) != EVTLS_STATE_CONNECTED ||
        evtls_conn_write_pending(c) > 0 || expired(p, e, evtls__now_us())) {
        if (!p->shutting_down && evtls_conn_get_state(c) == EVTLS_STATE_CONNECTED)
            COUNT(e->o, expired, 1);
        struct origin *o = e->o;
        entry_close(e);
        maybe_open(o);
        maybe_shutdown_done(p);
        return 0;
    }
    evtls_conn_read_stop(c);
    hand_over(e, 0, 0);
    arm_sweep(p);
    return 0;
}

void evtls_pool_release(evtls_pool *p, evtls_conn *c)
{
    struct entry *e = evtls_conn_get_userdata(c);
    if (p == NULL || e == NULL || e->p != p || e->st != EVTLS_POOL_BUSY)
        return;
    struct origin *o = e->o;
    entry_close(e);
    maybe_open(o);
    maybe_shutdown_done(p);
}

int evtls_pool_prewarm(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port, unsigned n)
{
    struct origin *o;
    int rc = origin_for(p, cfg, host, port, &o);
    if (rc != 0)
        return rc;
    while (o->st.idle + o->st.connecting < n &&
           o->st.idle + o->st.busy + o->st.connecting < p->o.max_per_origin &&
           p->total < p->o.max_total) {
        rc = open_conn(o);
        if (rc)
            return rc;
    }
    arm_sweep(p);
    return 0;
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    evtls_pool *p = arg;
    int err = 0;
    if ((what & EV_TIMEOUT) && !(p->total == 0 && p->closing == 0)) {
        /* Time is up: abort what is still out. */
        err = EVTLS_ERR_TIMEOUT;
        LOGW("pool: shutdown timed out with %u connection(s) still out", p->total);
        for (int b = 0; b < BUCKETS; b++)
            for (struct origin *o = p->buckets[b]; o; o = o->hnext)
                abort_active(o);
    }
    if (p->shutdown_done)
        return;
    p->shutdown_done = 1;
    event_del(&p->shutdown_ev);
    if (p->shutdown_cb)
        p->shutdown_cb(p, err, p->shutdown_arg);
}

static void maybe_shutdown_done(evtls_pool *p)
{
    if (p->shutting_down && !p->shutdown_done && p->total == 0 && p->closing == 0) {
        event_del(&p->shutdown_ev);
        event_active(&p->shutdown_ev, EV_READ, 0);
    }
}

void evtls_pool_shutdown(evtls_pool *p, unsigned timeout_ms, evtls_pool_shutdown_cb cb, void *arg)
{
    if (p == NULL || p->shutting_down)
        return;
    p->shutting_down = 1;
    p->shutdown_cb = cb;
    p->shutdown_arg = arg;
    event_assign(&p->shutdown_ev, p->base, -1, 0, shutdown_cb, p);
    for (int b = 0; b < BUCKETS; b++)
        for (struct origin *o = p->buckets[b]; o; o = o->hnext) {
            while (!TAILQ_EMPTY(&o->waiters))
                fail_co(TAILQ_FIRST(&o->waiters), EVTLS_ERR_POOL_CLOSED);
            while (!TAILQ_EMPTY(&o->idle))
                entry_close(TAILQ_FIRST(&o->idle));
        }
    if (timeout_ms) {
        struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
        event_add(&p->shutdown_ev, &tv);
    }
    maybe_shutdown_done(p);
}

void evtls_pool_free(evtls_pool *p)
{
    if (p == NULL)
        return;
    event_del(&p->sweep);
    event_del(&p->shutdown_ev);
    for (int b = 0; b < BUCKETS; b++) {
        struct origin *o = p->buckets[b];
        while (o) {
            struct origin *next = o->hnext;
            struct evtls_checkout *co;
            while ((co = TAILQ_FIRST(&o->waiters)) != NULL) {
                wait_unlink(co);
                co_recycle(co);
            }
            /* Idle ones too are aborted: nobody waits for a close any more. */
            struct entry *e;
            while ((e = TAILQ_FIRST(&o->idle)) != NULL) {
                set_state(e, EVTLS_POOL_CLOSED);
                evtls_conn_set_userdata(e->c, NULL);
                evtls_conn_abort(e->c);
                free(e);
            }
            abort_active(o);
            evtls_cfg_free(o->cfg);
            free(o->host);
            free(o);
            o = next;
        }
    }
    while (p->free_cos) {
        struct evtls_checkout *co = p->free_cos;
        p->free_cos = co->free_next;
        event_del(&co->ev);
        free(co);
    }
    evtls_resolver_free(p->resolver);
    evtls_session_cache_free(p->sessions);
    if (p->closing > 0) {
        p->freed = 1; /* the last on_closed frees it */
        return;
    }
    free(p);
}

void evtls_pool_get_stats(const evtls_pool *p, evtls_pool_stats *st)
{
    if (p && st)
        *st = p->st;
}

void evtls_pool_get_origin_stats(const evtls_pool *p, const evtls_cfg *cfg, const char *host,
                                 uint16_t port, evtls_pool_stats *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof *st);
    char key[KEY_MAX];
    if (p == NULL || host == NULL)
        return;
    make_key(key, cfg, host, port);
    const struct origin *o = origin_find(p, key);
    if (o)
        *st = o->st;
}
