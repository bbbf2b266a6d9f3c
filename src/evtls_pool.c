/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_pool.c - connections per origin: idle stacks, FIFO waiters,
 * limits, expiry, resumption through a shared session cache.
 *
 * Each origin keeps its idle connections in a list, most recently used at
 * the head (reuse is O(1) from the head, expiry pops from the tail) and
 * its waiting checkouts in a FIFO. The pool keeps every idle connection in
 * one more list, least recently used at the tail: when the total limit
 * blocks an origin's waiter, that is the connection closed to make room.
 *
 * A checkout record is QUEUED (in its origin's FIFO), READY (its result
 * decided, the callback due from the loop), CALLING (inside its callback)
 * or FREE (recycled). Records are recycled through a free list, so reusing
 * an idle connection allocates nothing.
 *
 * A connection's pool entry hangs in the connection's private owner slot,
 * never in the application's userdata. A connection given to a holder is
 * the holder's until checkin, release or free; if the pool goes first
 * (free, or shutdown past its timeout) the connection is failed in place
 * and left to the holder, marked as no longer pooled. */
#include <event2/event.h>
#include <event2/event_struct.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "evtls/pool.h"
#include "evtls_cfg_int.h"
#include "evtls_conn_int.h"
#include "evtls_h2.h"
#include "evtls_handle.h"
#include "evtls_log_int.h"
#include "evtls_origin.h"
#include "evtls_pool_int.h"
#include "evtls_resolver_int.h"
#include "evtls_sized.h"
#include "evtls_time.h"

#define BUCKETS       256
#define SWEEP_MAX_MS  1000
#define KEY_MAX       320
#define ORIGIN_TTL_MS 60000  /* empty origins, when idle connections never expire */
#define H2_MEMORY_MS  600000 /* how long what an origin said about h2 is believed */
/* What an origin is believed to speak, when its configuration offers h2. */
enum { H2_UNKNOWN, H2_YES, H2_NO };
/* An entry's states: the public ones (evtls_pool_conn_state, which the
 * state hook sees), and two of the pool's own: NEW before its connect
 * (the hook sees it as CLOSED), CLOSING after CLOSED while the graceful
 * close of a connection the pool let go of still runs (on p->closing). */
enum { ENTRY_CLOSING = EVTLS_POOL_CLOSED + 1, ENTRY_NEW, ENTRY_STATES };
#define M(x) (1u << (x))
static const unsigned entry_moves[ENTRY_STATES] = {
    [EVTLS_POOL_CONNECTING] = M(EVTLS_POOL_IDLE) | M(EVTLS_POOL_BUSY) | M(EVTLS_POOL_CLOSED),
    [EVTLS_POOL_IDLE] = M(EVTLS_POOL_BUSY) | M(EVTLS_POOL_CLOSED),
    [EVTLS_POOL_BUSY] = M(EVTLS_POOL_IDLE) | M(EVTLS_POOL_CLOSED),
    [EVTLS_POOL_CLOSED] = M(ENTRY_CLOSING),
    [ENTRY_CLOSING] = 0,
    [ENTRY_NEW] = M(EVTLS_POOL_CONNECTING),
};
#undef M

struct origin;

struct entry {
    TAILQ_ENTRY(entry) link;  /* the origin's idle or active list, or the pool's closing list */
    TAILQ_ENTRY(entry) plink; /* the pool's idle list, while idle */
    struct origin *o;         /* NULL once closing */
    evtls_pool *p;
    evtls_conn *c;
    int st;                    /* an evtls_pool_conn_state, or ENTRY_CLOSING; set_state writes it */
    struct evtls_checkout *co; /* assigned to co, its callback not run yet */
    unsigned uses;
    unsigned racing; /* Happy Eyeballs sockets its connect holds beyond the first */
    /* HTTP/2: one connection, many holders. users counts the checkouts it
     * was given to (pending of them not delivered yet); a retiring one
     * takes no more and closes when the last gives it back; an orphaned
     * one outlived its pool and goes with its last holder. */
    unsigned h2 : 1, retiring : 1, orphaned : 1;
    unsigned users, pending;
    uint64_t born_us, idle_since_us, connect_start_us;
    /* Early data: dialled for this checkout, its request in the first
     * flight (NULL once handed over or let go); stray: that checkout
     * stopped waiting, so what the server took early is nobody's */
    struct evtls_checkout *for_co;
    int early_stray;
};

enum co_state { CO_FREE, CO_QUEUED, CO_READY, CO_CALLING };

struct evtls_checkout {
    TAILQ_ENTRY(evtls_checkout) link; /* the origin's waiters (QUEUED) or the pool's ready list */
    struct evtls_checkout *free_next; /* the free list */
    struct evtls_checkout *outer;     /* CALLING: the record whose callback runs around this one */
    enum co_state st;
    struct origin *o; /* while QUEUED */
    evtls_pool *p;    /* NULL once the pool is freed */
    evtls_checkout_cb cb;
    void *arg;
    struct event ev; /* wait timeout, then delivery */
    uint64_t t0_us;
    struct entry *e; /* READY with a connection */
    int err;         /* READY with an error */
    int cancelled;   /* cancelled after the pool was freed: no callback */
    evtls__handle h; /* the application's handle (0: none asked for, or spent) */
    evtls_checkout_info ci;
    evtls_last_error rec; /* a failed connect's record (ci.error points here) */
    const uint8_t *early; /* a request that may go as early data (the caller's), or NULL */
    size_t early_len;
    struct entry *dialing; /* the connection dialled with it, while it connects */
};

TAILQ_HEAD(entry_list, entry);
TAILQ_HEAD(co_list, evtls_checkout);

struct origin {
    struct origin *hnext;
    TAILQ_ENTRY(origin) slink; /* the pool's starved list */
    int starved;
    evtls_pool *p;
    evtls_cfg *cfg;
    char *host;
    uint16_t port;
    uint64_t empty_since_us; /* 0 while it has connections or waiters */
    int h2_known;            /* H2_UNKNOWN, H2_YES or H2_NO, until h2_until_us */
    uint64_t h2_until_us;
    char key[KEY_MAX];
    struct entry_list idle;   /* most recently used first */
    struct entry_list active; /* connecting or busy */
    struct co_list waiters;   /* FIFO */
    evtls_pool_stats st;      /* its gauges and counters */
};

struct evtls_pool {
    struct event_base *base;
    evtls_pool_opts o;
    evtls_resolver *resolver;
    evtls_session_cache *sessions;
    struct origin *buckets[BUCKETS];
    struct origin *last; /* the origin of the last checkout: the next is often the same */
    struct evtls_checkout *free_cos;
    struct evtls_checkout *calling; /* innermost record inside its callback */
    struct co_list ready;           /* READY records */
    struct entry_list idle_lru;     /* every idle connection, most recent first */
    struct entry_list closing;      /* graceful closes still running */
    TAILQ_HEAD(, origin) starved;   /* origins whose waiters the total limit blocks */
    unsigned total;                 /* pooled connections (idle, busy, connecting) */
    evtls_pool_stats st;
    evtls_pool_state_cb state_cb;
    void *state_arg;
    int in_state_cb;
    struct event sweep;
    int shutting_down;
    evtls_pool_shutdown_cb shutdown_cb;
    void *shutdown_arg;
    struct event shutdown_ev; /* completion, or the shutdown timeout */
    int shutdown_done;
};

static void h2_leave(struct entry *e);
static void h2_give_back(struct entry *e, int retire);

void evtls_pool_opts_default_sized(evtls_pool_opts *o, size_t size)
{
    if (o == NULL)
        return;
    evtls_pool_opts d;
    memset(&d, 0, sizeof d);
    d.max_per_origin = 8;
    d.max_total = 1024;
    d.idle_timeout_ms = 60000;
    d.wait_timeout_ms = 30000;
    d.resumption = 1;
    EVTLS__COPY_OUT(o, size, &d);
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

static unsigned *gauge_of(evtls_pool_stats *st, evtls_pool_conn_state s)
{
    switch (s) {
    case EVTLS_POOL_CONNECTING: return &st->connecting;
    case EVTLS_POOL_IDLE: return &st->idle;
    case EVTLS_POOL_BUSY: return &st->busy;
    default: return NULL;
    }
}

/* Moves e (of an origin) to state to: its lists and the gauges. The only
 * writer of e->st while e belongs to an origin. */
static void set_state(struct entry *e, int to)
{
    int from = e->st;
    if (e->for_co && to != EVTLS_POOL_CONNECTING) { /* failed or closed while connecting */
        e->for_co->dialing = NULL;
        e->for_co = NULL;
    }
    struct origin *o = e->o;
    evtls_pool *p = e->p;
    if (from != to && !(entry_moves[from] & (1u << to))) {
        LOGE("pool: internal error: no move for a connection from state %d to %d", from, to);
#ifndef NDEBUG
        abort(); /* a debug build stops at the bug */
#endif
        return;
    }
    if (from == EVTLS_POOL_IDLE) {
        TAILQ_REMOVE(&o->idle, e, link);
        TAILQ_REMOVE(&p->idle_lru, e, plink);
    } else if (is_active(from)) {
        TAILQ_REMOVE(&o->active, e, link);
    }
    if (to == EVTLS_POOL_IDLE) {
        TAILQ_INSERT_HEAD(&o->idle, e, link);
        TAILQ_INSERT_HEAD(&p->idle_lru, e, plink);
    } else if (is_active(to)) {
        TAILQ_INSERT_HEAD(&o->active, e, link);
    }
    unsigned *g;
    /* (An entry without an origin is CLOSED or CLOSING: no gauge.) */
    if (o && (g = gauge_of(&o->st, from)) != NULL) {
        (*g)--;
        (*gauge_of(&p->st, from))--;
    }
    if (o && (g = gauge_of(&o->st, to)) != NULL) {
        (*g)++;
        (*gauge_of(&p->st, to))++;
    }
    e->st = to;
    if (p->state_cb && to <= EVTLS_POOL_CLOSED) { /* the pool's own states are not shown */
        /* The hook may look, not act: pool calls from inside it are refused. */
        p->in_state_cb++;
        p->state_cb(p, e->c, from == ENTRY_NEW ? EVTLS_POOL_CLOSED : from, to, p->state_arg);
        p->in_state_cb--;
    }
}

/* ------------------------------------------------------------------ */
/* origins */

/* Connections are interchangeable within one configuration object. */
static int make_key(char *key, const evtls_cfg *cfg, const char *host, uint16_t port)
{
    char tag[32];
    snprintf(tag, sizeof tag, "%p", (const void *)cfg);
    return evtls__origin_key(key, KEY_MAX, host, port, tag);
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

static struct origin *origin_get(evtls_pool *p, evtls_cfg *cfg, const char *key, const char *host,
                                 uint16_t port)
{
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
    p->st.origins++;
    return o;
}

static int origin_empty(const struct origin *o)
{
    return o->st.idle + o->st.busy + o->st.connecting + o->st.waiting == 0 && !o->starved;
}

static void origin_free(struct origin *o)
{
    evtls_cfg_unref(o->cfg);
    free(o->host);
    free(o);
}

/* ------------------------------------------------------------------ */
/* checkout records */

static void wait_unlink(struct evtls_checkout *co)
{
    if (co->dialing) { /* it goes without the connection dialled for it */
        co->dialing->for_co = NULL;
        co->dialing->early_stray = 1;
        co->dialing = NULL;
    }
    if (co->st != CO_QUEUED)
        return;
    struct origin *o = co->o;
    TAILQ_REMOVE(&o->waiters, co, link);
    GAUGE(o, waiting, -1);
    co->o = NULL;
    if (o->starved && o->st.waiting == 0) { /* nobody left to open for */
        TAILQ_REMOVE(&o->p->starved, o, slink);
        o->starved = 0;
    }
}

/* The application's handle is spent: a cancel through it finds nothing. */
static void co_spend(struct evtls_checkout *co)
{
    evtls__handle_drop(co->h);
    co->h = 0;
}

static void co_recycle(evtls_pool *p, struct evtls_checkout *co)
{
    co_spend(co);
    event_del(&co->ev);
    co->st = CO_FREE;
    co->free_next = p->free_cos;
    p->free_cos = co;
}

/* Decides co's result: the callback runs from the loop. */
static void co_ready(struct evtls_checkout *co)
{
    evtls_pool *p = co->p;
    wait_unlink(co);
    co->st = CO_READY;
    TAILQ_INSERT_TAIL(&p->ready, co, link);
    event_del(&co->ev);
    event_active(&co->ev, EV_TIMEOUT, 0);
}

/* ------------------------------------------------------------------ */
/* closing */

static void maybe_shutdown_done(evtls_pool *p);

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)c;
    (void)err;
    struct entry *e = arg;
    evtls_pool *p = e->p;
    TAILQ_REMOVE(&p->closing, e, link);
    free(e);
    maybe_shutdown_done(p);
}

/* Takes e out of its origin. Its connection, if any, closes gracefully
 * (e stays in the closing list until then) or is aborted. */
static void entry_close(struct entry *e)
{
    evtls_pool *p = e->p;
    h2_leave(e);
    set_state(e, EVTLS_POOL_CLOSED);
    p->total--;
    if (e->o) /* the origin lets go of the entry's races now, the pool as they end */
        e->o->st.racing -= e->racing;
    e->o = NULL;
    evtls_conn *c = e->c;
    if (c) {
        evtls__conn_set_owner(c, NULL, NULL);
        if (evtls_conn_get_state(c) == EVTLS_STATE_CONNECTED &&
            evtls_conn_close(c, on_closed, e) == 0) {
            set_state(e, ENTRY_CLOSING);
            TAILQ_INSERT_TAIL(&p->closing, e, link);
            return;
        }
        evtls_conn_abort(c);
    }
    free(e);
}

/* Lets go of a connection a holder has: failed in place with err (its
 * exchange, if any, ends with it) and marked as no longer pooled. */
static void entry_orphan(struct entry *e, int err, const char *why)
{
    evtls_pool *p = e->p;
    evtls_conn *c = e->c;
    h2_leave(e);
    set_state(e, EVTLS_POOL_CLOSED);
    p->total--;
    if (e->h2 && e->users > 1) {
        /* Several holders share it: the entry stays with the connection
         * (no longer the pool's) and goes with the last of them. */
        e->orphaned = 1;
        e->o = NULL;
        e->p = NULL;
        evtls__conn_kill(c, err, why);
        return;
    }
    e->c = NULL;
    free(e);
    evtls__conn_set_owner(c, EVTLS__OWNER_GONE, NULL);
    evtls__conn_kill(c, err, why);
}

/* Checkouts e was given and that are not delivered yet get err instead. */
static void h2_unassign(struct entry *e, int err)
{
    struct evtls_checkout *co;
    TAILQ_FOREACH(co, &e->p->ready, link)
    if (co->e == e) {
        co->e = NULL;
        co->err = err;
        e->pending--;
        e->users--;
    }
}

/* Every connection of o goes: the holders' ones are let go (err), the
 * pool's own (connecting, idle, assigned but not yet delivered) aborted. */
static void origin_drop_conns(struct origin *o, int err, const char *why)
{
    struct entry *e;
    while ((e = TAILQ_FIRST(&o->active)) != NULL || (e = TAILQ_FIRST(&o->idle)) != NULL) {
        if (e->h2)
            h2_unassign(e, err);
        if (e->h2 ? e->users > 0 : e->st == EVTLS_POOL_BUSY && e->co == NULL) {
            entry_orphan(e, err, why);
        } else {
            evtls_conn *c = e->c;
            e->c = NULL;
            if (e->co) { /* assigned, not delivered: the checkout gets err instead */
                e->co->e = NULL;
                e->co->err = err;
            }
            /* Aborted while e lives: a connect that races gives its racing
             * socket back through e (race_gate) as it goes. */
            if (c) {
                evtls__conn_set_owner(c, NULL, NULL);
                evtls_conn_abort(c);
            }
            entry_close(e);
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
    evtls_conn *c = NULL;
    int err = co->err;
    if (co->st == CO_QUEUED) {
        /* The wait timer fired. */
        struct origin *o = co->o;
        wait_unlink(co);
        err = EVTLS_ERR_POOL_WAIT_TIMEOUT;
        COUNT(o, wait_timeouts, 1);
        co->ci.wait_us = evtls__now_us() - co->t0_us;
    } else {
        TAILQ_REMOVE(&p->ready, co, link);
        if (co->e) {
            c = co->e->c;
            if (co->e->h2)
                co->e->pending--; /* from now on a holder's share */
            else
                co->e->co = NULL; /* from now on the holder's */
        }
    }
    co->st = CO_CALLING;
    co->outer = p->calling;
    p->calling = co;
    co_spend(co); /* a cancel from now on, even inside the callback, is a no-op */
    co->cb(p, c, err, &co->ci, co->arg);
    if (co->p == NULL) {
        free(co); /* the pool was freed inside the callback */
        return;
    }
    p->calling = co->outer;
    co_recycle(p, co);
}

/* After the pool is freed: the callback, with no pool, then the record
 * goes. Runs from the loop, or from event_base_free if that comes first. */
static void deliver_freed(struct event *ev, void *arg)
{
    (void)ev;
    struct evtls_checkout *co = arg;
    co_spend(co);
    if (!co->cancelled) {
        co->ci.wait_us = evtls__now_us() - co->t0_us;
        co->cb(NULL, NULL, EVTLS_ERR_POOL_FREED, &co->ci, co->arg);
    }
    free(co);
}

/* Gives e (connected, now BUSY) to co and schedules the callback; an
 * HTTP/2 connection stays the others' too (e->users). */
static void assign(struct evtls_checkout *co, struct entry *e, int fresh, uint64_t connect_us)
{
    struct origin *o = e->o;
    e->uses++;
    if (e->h2) {
        e->users++;
        e->pending++;
        if (e->users > 1)
            COUNT(o, shared, 1);
    } else {
        e->co = co;
    }
    co->e = e;
    co->ci.reused = !fresh;
    co->ci.connect_us = connect_us;
    co->ci.resumed = fresh && evtls_conn_get_info(e->c)->resumed;
    uint64_t waited = evtls__now_us() - co->t0_us;
    co->ci.wait_us = waited > connect_us ? waited - connect_us : 0;
    COUNT(o, wait_us_total, co->ci.wait_us);
    if (!fresh)
        COUNT(o, reused, 1);
    if (e->st != EVTLS_POOL_BUSY)
        set_state(e, EVTLS_POOL_BUSY);
    co_ready(co);
}

static void fail_co(struct evtls_checkout *co, int err, const evtls_last_error *rec)
{
    co->err = err;
    co->ci.wait_us = evtls__now_us() - co->t0_us;
    if (rec) {
        co->rec = *rec;
        co->ci.error = &co->rec;
    }
    co_ready(co);
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

/* ------------------------------------------------------------------ */
/* HTTP/2: a connection shared by its streams' checkouts */

static int h2_offered(const struct origin *o)
{
    return evtls__cfg_values(o->cfg)->http2 != EVTLS_HTTP2_OFF;
}

/* What o is believed to speak now (H2_NO when h2 is not offered). */
static int h2_belief(struct origin *o, uint64_t now)
{
    if (!h2_offered(o))
        return H2_NO;
    if (o->h2_known != H2_UNKNOWN && now >= o->h2_until_us)
        o->h2_known = H2_UNKNOWN;
    return o->h2_known;
}

/* How many more checkouts e's HTTP/2 connection takes now. */
static unsigned h2_slots(const struct entry *e)
{
    if (!e->h2 || e->retiring || e->c == NULL ||
        evtls_conn_get_state(e->c) != EVTLS_STATE_CONNECTED || expired(e->p, e, evtls__now_us()))
        return 0;
    unsigned limit = evtls__h2_limit(evtls__h2_of(e->c));
    return limit > e->users ? limit - e->users : 0;
}

/* e leaves its origin: its gauge, and what its session counted. */
static void h2_leave(struct entry *e)
{
    if (!e->h2 || e->o == NULL)
        return;
    struct origin *o = e->o;
    GAUGE(o, h2_conns, -1);
    evtls__h2_counts n;
    evtls__h2_get_counts(e->c ? evtls__h2_of(e->c) : NULL, &n);
    COUNT(o, streams, n.streams);
    COUNT(o, refused_streams, n.refused);
    COUNT(o, goaways, n.goaways);
    COUNT(o, pings_lost, n.pings_lost);
}

/* The first HTTP/2 connection of o with room, or NULL. */
static struct entry *h2_with_room(struct origin *o)
{
    struct entry *e;
    TAILQ_FOREACH(e, &o->active, link)
    if (e->st == EVTLS_POOL_BUSY && h2_slots(e) > 0)
        return e;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* opening, and sharing the total limit */

static int open_conn(struct origin *o);

static void starve(struct origin *o)
{
    if (!o->starved) {
        o->starved = 1;
        TAILQ_INSERT_TAIL(&o->p->starved, o, slink);
    }
}

/* Opens connections while waiters (or the warm-up minimum) need them and
 * the limits allow. At the total limit a waiter's need closes the least
 * recently used idle connection of another origin; with none, the origin
 * waits in the pool's starved list for the next connection to go. */
static void maybe_open(struct origin *o)
{
    evtls_pool *p = o->p;
    if (p->shutting_down)
        return;
    for (;;) {
        unsigned have = o->st.idle + o->st.busy + o->st.connecting;
        /* Each connection being made serves one waiter; one that may turn
         * out to speak h2 serves as many as it will take streams (assumed
         * 100 until the server's SETTINGS), and an HTTP/2 connection that
         * is full opens another only when the pool allows more than one. */
        unsigned per_conn = 1;
        int belief = h2_belief(o, evtls__now_us());
        if (belief != H2_NO) {
            unsigned cap = evtls__cfg_values(o->cfg)->http2_max_streams;
            per_conn = cap < 100 ? cap : 100;
            /* while unknown, one dial: no burst of sockets before the
             * server has said what it speaks */
            if ((belief == H2_UNKNOWN && o->st.connecting > 0) ||
                (p->o.http2_one_connection && have > 0))
                return;
        }
        int waiters = o->st.waiting > o->st.connecting * per_conn;
        int need = waiters || have < p->o.min_idle_per_origin;
        if (!need || have >= p->o.max_per_origin)
            return;
        if (p->total >= p->o.max_total) {
            struct entry *victim = TAILQ_LAST(&p->idle_lru, entry_list);
            if (!waiters)
                return; /* the warm-up minimum closes nobody's connection */
            if (victim == NULL) {
                starve(o);
                return;
            }
            COUNT(victim->o, evicted, 1);
            entry_close(victim);
        }
        int rc = open_conn(o);
        if (rc != 0) {
            if (!TAILQ_EMPTY(&o->waiters))
                fail_co(TAILQ_FIRST(&o->waiters), rc, NULL);
            return;
        }
    }
}

/* A connection went: origins the total limit held back get their turn. */
static void serve_starved(evtls_pool *p)
{
    struct origin *o;
    while (p->total < p->o.max_total && (o = TAILQ_FIRST(&p->starved)) != NULL) {
        TAILQ_REMOVE(&p->starved, o, slink);
        o->starved = 0;
        maybe_open(o);
        if (o->starved)
            return; /* still blocked: nothing more can open now */
    }
}

/* What follows every change that can free a slot. */
static void after_change(evtls_pool *p, struct origin *o)
{
    if (o)
        maybe_open(o);
    serve_starved(p);
    maybe_shutdown_done(p);
}

/* A connection is free (new, or back from a holder): to the first waiter,
 * else idle, unless another origin waits for the total limit. */
static void hand_over(struct entry *e, int fresh, uint64_t connect_us)
{
    struct origin *o = e->o;
    evtls_pool *p = e->p;
    struct evtls_checkout *mine = e->for_co;
    if (mine) { /* dialled with its request as early data: its own */
        mine->dialing = NULL;
        e->for_co = NULL;
        if (!e->h2) {
            assign(mine, e, fresh, connect_us);
            return;
        }
    }
    if (e->h2) {
        /* waiters take its streams; with no holder left it is idle */
        while (!TAILQ_EMPTY(&o->waiters) && h2_slots(e) > 0)
            assign(TAILQ_FIRST(&o->waiters), e, fresh, connect_us);
        if (e->users > 0)
            return;
        if (h2_slots(e) == 0) { /* retiring, draining or used up */
            COUNT(o, expired, 1);
            entry_close(e);
            after_change(p, o);
            return;
        }
    }
    if (!TAILQ_EMPTY(&o->waiters)) {
        assign(TAILQ_FIRST(&o->waiters), e, fresh, connect_us);
        return;
    }
    if (!TAILQ_EMPTY(&p->starved)) {
        COUNT(o, evicted, 1);
        entry_close(e);
        after_change(p, o);
        return;
    }
    e->idle_since_us = evtls__now_us();
    set_state(e, EVTLS_POOL_IDLE);
    unsigned max_idle = p->o.max_idle_per_origin;
    while (max_idle && o->st.idle > max_idle) {
        COUNT(o, expired, 1);
        entry_close(TAILQ_LAST(&o->idle, entry_list));
    }
}

/* ------------------------------------------------------------------ */
/* new connections */

/* The holder freed or closed a connection it had checked out. A shared
 * HTTP/2 connection stays for its other holders: a free only gives this
 * holder's share back, a close is refused. */
static int on_let_go(evtls_conn *c, void *owner, int closing)
{
    struct entry *e = owner;
    if (e->orphaned) { /* its pool let go of it: the last holder frees it */
        if (e->users > 1) {
            if (!closing)
                e->users--;
            return 1;
        }
        free(e);
        return 0;
    }
    if (e->h2 && e->users > 1) {
        if (!closing)
            h2_give_back(e, 0);
        return 1;
    }
    struct origin *o = e->o;
    evtls_pool *p = e->p;
    h2_leave(e);
    e->c = NULL;
    set_state(e, EVTLS_POOL_CLOSED);
    p->total--;
    free(e);
    after_change(p, o);
    (void)c;
    return 0;
}

static int same_for_every_conn(int err)
{
    evtls_err_class cls = evtls_err_get_class(err);
    return cls == EVTLS_CLASS_CERT || cls == EVTLS_CLASS_CONFIG || err == EVTLS_ERR_DNS_NXDOMAIN ||
           err == EVTLS_ERR_DNS_NODATA || err == EVTLS_ERR_PROTOCOL_VERSION ||
           err == EVTLS_ERR_HANDSHAKE_FAILED;
}

static void on_connected(evtls_conn *c, int err, void *arg)
{
    struct entry *e = arg;
    struct origin *o = e->o;
    evtls_pool *p = e->p;
    uint64_t connect_us = evtls__now_us() - e->connect_start_us;
    if (err) {
        o->st.failed[evtls_err_get_class(err)]++;
        p->st.failed[evtls_err_get_class(err)]++;
        evtls_last_error rec = *evtls_conn_get_last_error(c);
        e->c = NULL;
        set_state(e, EVTLS_POOL_CLOSED);
        p->total--;
        free(e);
        evtls__conn_set_owner(c, NULL, NULL);
        evtls_conn_free(c);
        /* The checkout first in line gets the error with its record: waiting
         * on would only repeat it. An error that every connection to the
         * origin would meet (its certificate, the configuration, the name,
         * nothing in common) is every waiter's: one failed handshake answers
         * them all. Others (a reset, bad bytes from a flaky peer) may not
         * repeat, and the next connection is tried for the next waiter. */
        if (same_for_every_conn(err)) {
            while (!TAILQ_EMPTY(&o->waiters))
                fail_co(TAILQ_FIRST(&o->waiters), err, &rec);
        } else if (!TAILQ_EMPTY(&o->waiters)) {
            fail_co(TAILQ_FIRST(&o->waiters), err, &rec);
        }
        after_change(p, o);
        return;
    }
    COUNT(o, created, 1);
    if (h2_offered(o)) {
        /* what the origin speaks, remembered for a while */
        e->h2 = evtls__h2_wanted(c) && evtls__h2_get(c) != NULL;
        o->h2_known = e->h2 ? H2_YES : H2_NO;
        o->h2_until_us = evtls__now_us() + (uint64_t)H2_MEMORY_MS * 1000u;
        if (e->h2)
            GAUGE(o, h2_conns, 1);
    }
    const evtls_conn_info *i = evtls_conn_get_info(c);
    if (i->resumed)
        COUNT(o, resumed, 1);
    if (i->session_offered && !i->resumed)
        COUNT(o, resume_refused, 1);
    if (p->shutting_down) {
        entry_close(e);
        maybe_shutdown_done(p);
        return;
    }
    if (e->early_stray && i->early_data == EVTLS_EARLY_DATA_ACCEPTED) {
        /* the server is answering a request whose checkout went away */
        entry_close(e);
        after_change(p, o);
        return;
    }
    hand_over(e, 1, connect_us);
    after_change(p, o); /* HTTP/1.1 after all: the other waiters need connections */
}

/* A connecting connection's Happy Eyeballs race asks for (take 1) or
 * gives back (take -1) a second socket: the limits count sockets. */
static int race_gate(void *arg, int take)
{
    struct entry *e = arg;
    struct origin *o = e->o; /* NULL once the entry is closing: the race ends now */
    evtls_pool *p = e->p;
    if (take < 0) {
        if (e->racing) {
            e->racing--;
            p->st.racing--;
            if (o)
                o->st.racing--;
        }
        return 1;
    }
    if (o == NULL ||
        o->st.idle + o->st.busy + o->st.connecting + o->st.racing >= p->o.max_per_origin ||
        p->total + p->st.racing >= p->o.max_total)
        return 0;
    e->racing++;
    o->st.racing++;
    p->st.racing++;
    return 1;
}

static int open_conn(struct origin *o)
{
    evtls_pool *p = o->p;
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return EVTLS_ERR_NOMEM;
    e->o = o;
    e->p = p;
    e->st = ENTRY_NEW;
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
    /* The first waiter whose request may go early and has no connection
     * on the way: its request rides on this one's first flight (HTTP/1.1
     * bytes: not to an origin that may speak h2). */
    struct evtls_checkout *w;
    TAILQ_FOREACH(w, &o->waiters, link)
    {
        if (w->early && !w->dialing && p->o.resumption && !h2_offered(o)) {
            if (evtls_conn_set_early_data(e->c, "http/1.1", w->early, w->early_len) == 0) {
                e->for_co = w;
                w->dialing = e;
            }
            break;
        }
    }
    evtls__conn_set_owner(e->c, e, on_let_go);
    e->born_us = e->connect_start_us = evtls__now_us();
    p->total++;
    set_state(e, EVTLS_POOL_CONNECTING);
    evtls__conn_set_race_gate(e->c, race_gate, e);
    int rc = evtls_conn_connect(e->c, o->host, o->port, on_connected, e);
    if (rc != 0) {
        evtls__conn_set_owner(e->c, NULL, NULL);
        evtls_conn_free(e->c);
        e->c = NULL;
        set_state(e, EVTLS_POOL_CLOSED);
        p->total--;
        free(e);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* public */

static void sweep_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_cb(evutil_socket_t fd, short what, void *arg);

evtls_pool *evtls_pool_new_sized(struct event_base *base, const evtls_pool_opts *opts,
                                 size_t opts_size)
{
    if (base == NULL)
        return NULL;
    evtls_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->base = base;
    evtls_pool_opts_default(&p->o);
    if (opts)
        EVTLS__COPY_IN(&p->o, opts, opts_size);
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
    TAILQ_INIT(&p->ready);
    TAILQ_INIT(&p->idle_lru);
    TAILQ_INIT(&p->closing);
    TAILQ_INIT(&p->starved);
    event_assign(&p->sweep, base, -1, 0, sweep_cb, p);
    event_assign(&p->shutdown_ev, base, -1, 0, shutdown_cb, p);
    return p;
}

int evtls_pool_set_resolver(evtls_pool *p, evtls_resolver *r)
{
    if (p == NULL || r == NULL)
        return EVTLS_ERR_INVALID_ARG;
    evtls_resolver_unref(p->resolver);
    p->resolver = evtls__resolver_ref(r);
    return 0;
}

evtls_session_cache *evtls_pool_get_session_cache(evtls_pool *p)
{
    return p ? p->sessions : NULL;
}

int evtls_pool_set_session_cache(evtls_pool *p, evtls_session_cache *sc)
{
    if (p == NULL || sc == NULL)
        return EVTLS_ERR_INVALID_ARG;
    evtls_session_cache *old = p->sessions;
    p->sessions = evtls_session_cache_ref(sc);
    evtls_session_cache_unref(old);
    return 0;
}

int evtls_pool_set_state_cb(evtls_pool *p, evtls_pool_state_cb cb, void *arg)
{
    if (p == NULL)
        return EVTLS_ERR_INVALID_ARG;
    p->state_cb = cb;
    p->state_arg = arg;
    return 0;
}

/* Unlinks o from its bucket and frees it (it is empty). */
static void origin_drop(evtls_pool *p, struct origin *o)
{
    struct origin **pp = &p->buckets[hash(o->key)];
    while (*pp != o)
        pp = &(*pp)->hnext;
    *pp = o->hnext;
    p->st.origins--;
    if (p->last == o)
        p->last = NULL;
    origin_free(o);
}

/* Closes idle connections past the idle timeout, oldest first, from each
 * origin's tail (the work is proportional to what expires), keeps the
 * warm-up minimum, and drops origins that have been empty for the idle
 * timeout (or ORIGIN_TTL_MS), with their configuration reference. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_pool *p = arg;
    uint64_t now = evtls__now_us();
    uint64_t ttl_us =
        (uint64_t)(p->o.idle_timeout_ms ? p->o.idle_timeout_ms : ORIGIN_TTL_MS) * 1000;
    for (int b = 0; b < BUCKETS; b++) {
        struct origin *o = p->buckets[b];
        while (o) {
            struct origin *next = o->hnext;
            struct entry *oldest;
            while ((oldest = TAILQ_LAST(&o->idle, entry_list)) && expired(p, oldest, now)) {
                COUNT(o, expired, 1);
                entry_close(oldest);
            }
            maybe_open(o); /* warm-up minimum */
            if (!origin_empty(o))
                o->empty_since_us = 0;
            else if (o->empty_since_us == 0)
                o->empty_since_us = now;
            else if (now - o->empty_since_us >= ttl_us)
                origin_drop(p, o);
            o = next;
        }
    }
    serve_starved(p);
    if (p->st.origins > 0) {
        unsigned ms = p->o.idle_timeout_ms / 4;
        ms = ms == 0 || ms > SWEEP_MAX_MS ? SWEEP_MAX_MS : ms < 10 ? 10 : ms;
        struct timeval tv = evtls__tv_ms(ms);
        event_add(&p->sweep, &tv);
    }
}

static void arm_sweep(evtls_pool *p)
{
    if (!event_pending(&p->sweep, EV_TIMEOUT, NULL))
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
    if (p->in_state_cb || evtls__log_in_handler())
        return EVTLS_ERR_STATE;
    if (p->shutting_down)
        return EVTLS_ERR_POOL_CLOSED;
    /* The same origin as the last time, spelled the same: no key to make. */
    struct origin *last = p->last;
    if (last && last->cfg == cfg && last->port == port && strcmp(last->host, host) == 0) {
        *out = last;
        arm_sweep(p);
        return 0;
    }
    char key[KEY_MAX];
    if (make_key(key, cfg, host, port) < 0)
        return EVTLS_ERR_INVALID_ARG;
    if (evtls_cfg_build(cfg) != 0)
        return EVTLS_ERR_BAD_CONFIG;
    *out = origin_get(p, cfg, key, host, port);
    if (*out == NULL)
        return EVTLS_ERR_NOMEM;
    p->last = *out;
    arm_sweep(p); /* it will drop the origin once it is empty long enough */
    return 0;
}

int evtls_pool_checkout(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port,
                        evtls_checkout_cb cb, void *arg, evtls_checkout **handle)
{
    return evtls__pool_checkout_early(p, cfg, host, port, NULL, 0, cb, arg, handle);
}

int evtls__pool_checkout_early(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port,
                               const uint8_t *early, size_t len, evtls_checkout_cb cb, void *arg,
                               evtls_checkout **handle)
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
    co->cb = cb;
    co->arg = arg;
    co->t0_us = evtls__now_us();
    co->early = len ? early : NULL;
    co->early_len = len;
    co->dialing = NULL;
    if (handle) {
        co->h = evtls__handle_new(co);
        if (co->h == 0) {
            co_recycle(p, co);
            return EVTLS_ERR_NOMEM;
        }
        *handle = (evtls_checkout *)co->h;
    }
    COUNT(o, checkouts, 1);
    o->empty_since_us = 0;
    /* A stream on an HTTP/2 connection in use that has room (an origin
     * whose configuration does not offer h2 has none to look through). */
    struct entry *e = h2_offered(o) ? h2_with_room(o) : NULL;
    if (e) {
        assign(co, e, 0, 0);
        return 0;
    }
    /* Reuse: the most recently used idle connection that is still alive
     * (an HTTP/2 one reads all the time: its session knows). */
    while ((e = TAILQ_FIRST(&o->idle)) != NULL) {
        if (expired(p, e, co->t0_us)) {
            COUNT(o, expired, 1);
        } else if (e->h2 ? h2_slots(e) == 0 : !evtls_conn_check_alive(e->c)) {
            COUNT(o, dead_idle, 1);
        } else {
            assign(co, e, 0, 0);
            return 0;
        }
        entry_close(e);
    }
    /* Wait in line for a new or returned connection. */
    co->st = CO_QUEUED;
    co->o = o;
    TAILQ_INSERT_TAIL(&o->waiters, co, link);
    GAUGE(o, waiting, 1);
    if (p->o.wait_timeout_ms) {
        struct timeval tv = evtls__tv_ms(p->o.wait_timeout_ms);
        event_add(&co->ev, &tv);
    }
    after_change(p, o);
    return 0;
}

void evtls_pool_cancel(evtls_checkout *handle)
{
    struct evtls_checkout *co = evtls__handle_get((evtls__handle)handle);
    if (co == NULL || evtls__log_in_handler()) /* 0, or spent: its callback ran or runs */
        return;
    if (co->p == NULL) { /* the pool was freed: its POOL_FREED call is off */
        co->cancelled = 1;
        return;
    }
    evtls_pool *p = co->p;
    switch (co->st) {
    case CO_QUEUED: {
        struct origin *o = co->o;
        wait_unlink(co);
        co_recycle(p, co);
        after_change(p, o); /* a connection opened for it may serve another */
        return;
    }
    case CO_READY: {
        struct entry *e = co->e;
        TAILQ_REMOVE(&p->ready, co, link);
        co_recycle(p, co);
        if (e && e->h2) { /* a share not delivered: given back */
            e->pending--;
            h2_give_back(e, 0);
        } else if (e) { /* assigned but not delivered: it goes back */
            e->co = NULL;
            hand_over(e, 0, 0);
        }
        return;
    }
    case CO_CALLING:
    case CO_FREE:
        /* Its callback runs or ran: the handle is spent (pool.h). */
        LOGD("pool: cancel of a checkout whose callback already ran: ignored");
        return;
    default: LOGE("pool: checkout record in unknown state %d", (int)co->st); return;
    }
}

/* The entry of a connection p handed out and the holder still has, or
 * NULL (with *err set) for a connection p cannot take. A connection its
 * pool let go of is freed here. */
static struct entry *held_entry(evtls_pool *p, evtls_conn *c, int *err)
{
    void *owner = evtls__conn_owner(c);
    if (owner == EVTLS__OWNER_GONE) {
        *err = evtls_conn_get_last_error(c)->code;
        evtls__conn_set_owner(c, NULL, NULL);
        evtls_conn_free(c);
        return NULL;
    }
    struct entry *e = owner;
    if (e && e->orphaned) { /* a shared connection its pool let go of */
        *err = evtls_conn_get_last_error(c)->code;
        if (--e->users == 0) {
            evtls__conn_set_owner(c, NULL, NULL);
            free(e);
            evtls_conn_free(c);
        }
        return NULL;
    }
    if (p == NULL || e == NULL || e->p != p || e->st != EVTLS_POOL_BUSY ||
        (e->h2 ? e->users <= e->pending : e->co != NULL)) {
        LOGW("pool: a connection the pool did not hand out (or already got back) was given back");
        *err = EVTLS_ERR_INVALID_ARG;
        return NULL;
    }
    if (p->in_state_cb) {
        *err = EVTLS_ERR_STATE;
        return NULL;
    }
    return e;
}

int evtls_pool_checkin(evtls_pool *p, evtls_conn *c)
{
    if (evtls__log_in_handler())
        return EVTLS_ERR_STATE;
    int err = EVTLS_ERR_INVALID_ARG;
    struct entry *e = c ? held_entry(p, c, &err) : NULL;
    if (e == NULL)
        return err;
    if (e->h2) {
        h2_give_back(e, 0);
        arm_sweep(p);
        return 0;
    }
    if (evtls__conn_has_exchange(c)) {
        LOGW("%s", "pool: check-in refused: an HTTP exchange still runs on the connection "
                   "(cancel it, or release the connection)");
        return EVTLS_ERR_STATE;
    }
    struct origin *o = e->o;
    if (p->shutting_down || evtls_conn_get_state(c) != EVTLS_STATE_CONNECTED ||
        evtls_conn_get_write_pending(c) > 0 || expired(p, e, evtls__now_us())) {
        if (!p->shutting_down && evtls_conn_get_state(c) == EVTLS_STATE_CONNECTED)
            COUNT(o, expired, 1);
        entry_close(e);
        after_change(p, o);
        return 0;
    }
    evtls_conn_read_stop(c);
    hand_over(e, 0, 0);
    arm_sweep(p);
    return 0;
}

void evtls_pool_release(evtls_pool *p, evtls_conn *c)
{
    int err;
    struct entry *e = c && !evtls__log_in_handler() ? held_entry(p, c, &err) : NULL;
    if (e == NULL)
        return;
    if (e->h2) {
        h2_give_back(e, 1);
        return;
    }
    struct origin *o = e->o;
    entry_close(e);
    after_change(p, o);
}

/* A holder gives its share of e's HTTP/2 connection back (retire: as
 * unusable, so it takes no new stream). The last one out leaves it idle,
 * or closes it when it takes no more streams. */
static void h2_give_back(struct entry *e, int retire)
{
    struct origin *o = e->o;
    evtls_pool *p = e->p;
    e->users--;
    if (retire)
        e->retiring = 1;
    if (p->shutting_down && e->users == 0) {
        entry_close(e);
        after_change(p, o);
        return;
    }
    hand_over(e, 0, 0);
    after_change(p, o);
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
    return 0;
}

/* Every connection of the pool goes (origin_drop_conns), and the graceful
 * closes still running are cut short: nothing of the pool's stays. */
static void drop_all_conns(evtls_pool *p, int err, const char *why)
{
    for (int b = 0; b < BUCKETS; b++)
        for (struct origin *o = p->buckets[b]; o; o = o->hnext)
            origin_drop_conns(o, err, why);
    struct entry *e;
    while ((e = TAILQ_FIRST(&p->closing)) != NULL) {
        TAILQ_REMOVE(&p->closing, e, link);
        evtls_conn_abort(e->c);
        free(e);
    }
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    evtls_pool *p = arg;
    int err = 0;
    if ((what & EV_TIMEOUT) && !(p->total == 0 && TAILQ_EMPTY(&p->closing))) {
        /* Time is up: what is still out is let go of, failed in place. */
        err = EVTLS_ERR_TIMEOUT;
        LOGW("pool: shutdown timed out with %u connection(s) still out", p->total);
        drop_all_conns(p, EVTLS_ERR_POOL_CLOSED, "the pool's shutdown timed out");
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
    if (p->shutting_down && !p->shutdown_done && p->total == 0 && TAILQ_EMPTY(&p->closing)) {
        event_del(&p->shutdown_ev);
        event_active(&p->shutdown_ev, EV_READ, 0);
    }
}

void evtls_pool_shutdown(evtls_pool *p, unsigned timeout_ms, evtls_pool_shutdown_cb cb, void *arg)
{
    if (p == NULL || p->shutting_down || p->in_state_cb || evtls__log_in_handler())
        return;
    p->shutting_down = 1;
    p->shutdown_cb = cb;
    p->shutdown_arg = arg;
    event_assign(&p->shutdown_ev, p->base, -1, 0, shutdown_cb, p);
    for (int b = 0; b < BUCKETS; b++)
        for (struct origin *o = p->buckets[b]; o; o = o->hnext) {
            while (!TAILQ_EMPTY(&o->waiters))
                fail_co(TAILQ_FIRST(&o->waiters), EVTLS_ERR_POOL_CLOSED, NULL);
            while (!TAILQ_EMPTY(&o->idle))
                entry_close(TAILQ_FIRST(&o->idle));
            if (o->starved) {
                TAILQ_REMOVE(&p->starved, o, slink);
                o->starved = 0;
            }
        }
    if (timeout_ms) {
        struct timeval tv = evtls__tv_ms(timeout_ms);
        event_add(&p->shutdown_ev, &tv);
    }
    maybe_shutdown_done(p);
}

/* A pending record outlives the pool: its callback says POOL_FREED. It is
 * delivered by a finalizer, which libevent runs from the loop or from
 * event_base_free. The finalizer goes on an event of its own that libevent
 * frees: libevent 2.1's event_base_free reads a finalized event after its
 * finalizer returns, so the record (which holds co->ev) may not carry it. */
static void co_orphan(evtls_pool *p, struct evtls_checkout *co)
{
    if (co->st == CO_QUEUED)
        wait_unlink(co);
    if (co->e) {
        co->e->co = NULL;
        co->e = NULL;
    }
    event_del(&co->ev);
    co->p = NULL;
    co->ci.error = NULL;
    struct event *fin = event_new(p->base, -1, 0, NULL, co);
    if (fin == NULL) {
        LOGE("pool: out of memory: a checkout pending at evtls_pool_free gets no callback");
        co_spend(co);
        free(co);
        return;
    }
    event_free_finalize(0, fin, deliver_freed);
}

void evtls_pool_free(evtls_pool *p)
{
    if (p == NULL)
        return;
    if (p->in_state_cb) {
        LOGE("pool: evtls_pool_free from inside the state callback is refused");
        return;
    }
    if (evtls__log_in_handler()) /* a line of anything, logged in the middle of it */
        return;
    event_del(&p->sweep);
    event_del(&p->shutdown_ev);
    /* Records inside their callback (the free may come from one) are
     * freed when the callback returns; pending ones are called back from
     * the loop with POOL_FREED. */
    for (struct evtls_checkout *co = p->calling; co; co = co->outer)
        co->p = NULL;
    /* Connections first: those assigned to a pending checkout are the
     * pool's (aborted), those the holders have are let go of, graceful
     * closes still running end now. */
    drop_all_conns(p, EVTLS_ERR_POOL_FREED, "the pool was freed");
    struct evtls_checkout *co;
    while ((co = TAILQ_FIRST(&p->ready)) != NULL) {
        TAILQ_REMOVE(&p->ready, co, link);
        co_orphan(p, co);
    }
    for (int b = 0; b < BUCKETS; b++) {
        struct origin *o = p->buckets[b];
        while (o) {
            struct origin *next = o->hnext;
            while ((co = TAILQ_FIRST(&o->waiters)) != NULL)
                co_orphan(p, co);
            origin_free(o);
            o = next;
        }
    }
    while ((co = p->free_cos) != NULL) {
        p->free_cos = co->free_next;
        free(co);
    }
    evtls_resolver_unref(p->resolver);
    evtls_session_cache_unref(p->sessions);
    free(p);
}

void evtls_pool_get_stats_sized(const evtls_pool *p, evtls_pool_stats *st, size_t size)
{
    if (p && st)
        EVTLS__COPY_OUT(st, size, &p->st);
}

void evtls__pool_drop_idle(evtls_pool *p, const evtls_cfg *cfg, const char *host, uint16_t port)
{
    char key[KEY_MAX];
    if (p == NULL || host == NULL || make_key(key, cfg, host, port) < 0)
        return;
    struct origin *o = origin_find(p, key);
    if (o == NULL)
        return;
    struct entry *e;
    while ((e = TAILQ_FIRST(&o->idle)) != NULL) {
        COUNT(o, dead_idle, 1);
        entry_close(e);
    }
    after_change(p, o);
}

void evtls_pool_get_origin_stats_sized(const evtls_pool *p, const evtls_cfg *cfg, const char *host,
                                       uint16_t port, evtls_pool_stats *st, size_t size)
{
    if (st == NULL)
        return;
    evtls_pool_stats none;
    memset(&none, 0, sizeof none);
    char key[KEY_MAX];
    const struct origin *o = NULL;
    if (p && host && make_key(key, cfg, host, port) >= 0)
        o = origin_find(p, key);
    EVTLS__COPY_OUT(st, size, o ? &o->st : &none);
}
