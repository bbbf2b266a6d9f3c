/*
 * evtls/pool.h - a pool of TLS connections per origin on one event_base.
 *
 * An origin is (host, port, configuration). A checkout hands a ready
 * connection to its callback: an idle one that passes a non-blocking
 * liveness check, else a new one. The caller then checks it back in for
 * reuse (evtls_pool_checkin) or releases it as broken (evtls_pool_release).
 *
 * Limits: connections per origin, in total, idle per origin. At a limit a
 * checkout waits in its origin's FIFO queue, bounded by the wait timeout
 * (EVTLS_ERR_POOL_WAIT_TIMEOUT), which is separate from the connect
 * timeouts of the configuration. Idle connections expire after the idle
 * timeout, any connection after its maximum lifetime or number of uses.
 * An idle connection the server closed (or sent anything to) is found at
 * checkout and replaced; the caller never sees it.
 *
 * Sessions: new connections offer the newest session of their origin from
 * the pool's session cache (see evtls/session.h), so after one full
 * handshake the next ones resume.
 *
 * Cost: checking out an idle connection is O(1) and does not allocate
 * (checkout records are recycled); no operation scans all connections.
 */
#ifndef EVTLS_POOL_H
#define EVTLS_POOL_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/conn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct evtls_pool evtls_pool;
typedef struct evtls_checkout evtls_checkout;

typedef struct evtls_pool_opts {
    unsigned max_per_origin;      /* connections per origin (default 8) */
    unsigned max_total;           /* connections in all (default 1024) */
    unsigned max_idle_per_origin; /* idle ones kept per origin (default max_per_origin) */
    unsigned min_idle_per_origin; /* warm-up: idle ones kept open (default 0) */
    unsigned idle_timeout_ms;     /* close after this long idle (default 60000; 0 never) */
    unsigned max_lifetime_ms;     /* close at check-in after this long (default 0: never) */
    unsigned max_uses;            /* close at check-in after this many checkouts (0: never) */
    unsigned wait_timeout_ms;     /* longest wait in the queue (default 30000; 0 never) */
    int resumption;               /* offer cached sessions (default 1) */
} evtls_pool_opts;

/* What a checkout got. */
typedef struct evtls_checkout_info {
    int reused;          /* an idle connection was reused */
    int resumed;         /* a new connection resumed a session */
    uint64_t wait_us;    /* time queued for a connection, not counting its connect */
    uint64_t connect_us; /* connect time of a new connection (0 if reused) */
} evtls_checkout_info;

/* Called once per checkout from the loop: c ready with err 0, or c NULL
 * with the error (the connect error, EVTLS_ERR_POOL_WAIT_TIMEOUT or
 * EVTLS_ERR_POOL_CLOSED). */
typedef void (*evtls_checkout_cb)(evtls_pool *p, evtls_conn *c, int err,
                                  const evtls_checkout_info *info, void *arg);

typedef enum evtls_pool_conn_state {
    EVTLS_POOL_CONNECTING,
    EVTLS_POOL_IDLE,
    EVTLS_POOL_BUSY,
    EVTLS_POOL_CLOSED
} evtls_pool_conn_state;

/* Called on every state change of a pooled connection (c is NULL for a
 * connection that failed to connect). */
typedef void (*evtls_pool_state_cb)(evtls_pool *p, evtls_conn *c, evtls_pool_conn_state from,
                                    evtls_pool_conn_state to, void *arg);

typedef struct evtls_pool_stats {
    /* gauges */
    unsigned idle, busy, connecting, waiting;
    /* counters */
    uint64_t checkouts, created, reused, resumed, resume_refused;
    uint64_t expired;                          /* closed for idle time, lifetime or uses */
    uint64_t dead_idle;                        /* idle ones found closed or broken at checkout */
    uint64_t wait_timeouts;                    /* checkouts that gave up waiting */
    uint64_t wait_us_total;                    /* summed wait time of delivered checkouts */
    uint64_t failed[EVTLS_CLASS_INTERNAL + 1]; /* failed connects, by error class */
} evtls_pool_stats;

/* Fills o with the defaults above. */
EVTLS_API void evtls_pool_opts_default(evtls_pool_opts *o);

/* Creates a pool on base (opts NULL: defaults). */
EVTLS_API evtls_pool *evtls_pool_new(struct event_base *base, const evtls_pool_opts *opts);

/* Uses r for every new connection's name resolution (a reference is
 * taken); by default the pool makes one resolver for all of them. */
EVTLS_API int evtls_pool_set_resolver(evtls_pool *p, evtls_resolver *r);

/* The pool's session cache, e.g. to save it to or load it from a file. */
EVTLS_API evtls_session_cache *evtls_pool_session_cache(evtls_pool *p);

/* Sets the state-change hook. */
EVTLS_API void evtls_pool_set_state_cb(evtls_pool *p, evtls_pool_state_cb cb, void *arg);

/* Asks for a connection to host:port made with cfg. Returns 0 (cb will be
 * called, never from inside this call; *handle, if not NULL, can cancel
 * until then) or an error now (EVTLS_ERR_POOL_CLOSED, INVALID_ARG, NOMEM). */
EVTLS_API EVTLS_MUST_CHECK int evtls_pool_checkout(evtls_pool *p, evtls_cfg *cfg, const char *host,
                                                   uint16_t port, evtls_checkout_cb cb, void *arg,
                                                   evtls_checkout **handle);

/* Cancels a checkout whose callback has not run; it never runs. */
EVTLS_API void evtls_pool_cancel(evtls_checkout *h);

/* Gives a checked-out connection back for reuse. It must be connected,
 * with nothing left to write, and not reading (evtls_conn_read_stop); a
 * connection in any other state is closed instead. Returns 0. */
EVTLS_API int evtls_pool_checkin(evtls_pool *p, evtls_conn *c);

/* Gives a checked-out connection back as unusable: it is closed. */
EVTLS_API void evtls_pool_release(evtls_pool *p, evtls_conn *c);

/* Opens connections to an origin until n are idle or connecting (bounded by
 * the limits), e.g. before a burst. Returns 0 or an error. */
EVTLS_API int evtls_pool_prewarm(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port,
                                 unsigned n);

/* Graceful shutdown: new checkouts fail with EVTLS_ERR_POOL_CLOSED, waiters
 * get it too, idle connections close with close_notify, busy ones when they
 * come back. When all are closed, cb(p, 0, arg) runs; after timeout_ms
 * (0: none) the ones still out are aborted (the caller must not use them
 * any more) and cb gets EVTLS_ERR_TIMEOUT. */
typedef void (*evtls_pool_shutdown_cb)(evtls_pool *p, int err, void *arg);
EVTLS_API void evtls_pool_shutdown(evtls_pool *p, unsigned timeout_ms, evtls_pool_shutdown_cb cb,
                                   void *arg);

/* Frees the pool; remaining connections are aborted. NULL is ignored. */
EVTLS_API void evtls_pool_free(evtls_pool *p);

/* Copies the pool's counters and gauges. */
EVTLS_API void evtls_pool_get_stats(const evtls_pool *p, evtls_pool_stats *st);

/* The gauges and counters of one origin (all zero if unknown). */
EVTLS_API void evtls_pool_get_origin_stats(const evtls_pool *p, const evtls_cfg *cfg,
                                           const char *host, uint16_t port, evtls_pool_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_POOL_H */
