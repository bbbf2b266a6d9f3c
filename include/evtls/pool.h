/* SPDX-License-Identifier: GPL-2.0-or-later */
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
 *
 * The contract, from the application's side:
 *
 * - Every checkout that returned 0 gets exactly one callback, from the
 *   loop and never inside a pool call, unless it is cancelled before its
 *   callback starts. Errors: the connect's own (with its record in
 *   info->error), EVTLS_ERR_POOL_WAIT_TIMEOUT, EVTLS_ERR_POOL_CLOSED
 *   (shutdown) or EVTLS_ERR_POOL_FREED (evtls_pool_free; then p is NULL).
 *   A failure every connection to the origin would meet (its
 *   certificate, the configuration, NXDOMAIN or NODATA, no TLS version,
 *   cipher or ALPN protocol in common) reaches every checkout waiting for
 *   that origin at once; any other (refused, reset, a timeout, bad bytes)
 *   only the first in line, and the next waiter gets the next try.
 * - A checkout handle is valid from evtls_pool_checkout until its callback
 *   starts. evtls_pool_cancel inside the callback, or later, does nothing,
 *   even after the pool was freed: a handle is a number with a generation,
 *   not the address of the (recycled) record, so a spent one never names
 *   a newer checkout. (With handle NULL the checkout costs no handle.)
 * - A connection handed out is the holder's until it is given back with
 *   evtls_pool_checkin or evtls_pool_release, or freed (evtls_conn_free,
 *   evtls_conn_abort or evtls_conn_close: the pool then counts it gone and
 *   its slot is free). The pool keeps its bookkeeping in a private slot:
 *   evtls_conn_get_userdata/set_userdata are the holder's alone.
 * - Any pool call may be made from inside a checkout callback or an HTTP
 *   exchange's callbacks, including the next checkout (an idle connection
 *   checked in from a done callback is reused) and evtls_pool_free. The
 *   state-change hook may only look: pool calls from inside it are
 *   refused (EVTLS_ERR_STATE, or nothing done).
 * - evtls_pool_free frees the pool at once, with everything it owns: idle,
 *   connecting and closing connections are aborted, every empty origin and
 *   its configuration reference goes. Pending checkouts are called back
 *   with EVTLS_ERR_POOL_FREED from the loop (from event_base_free if the
 *   base is freed before it runs again). Connections the holders have are
 *   failed in place: an HTTP exchange on one ends with its done callback
 *   and EVTLS_ERR_POOL_FREED; the connection stays allocated, and giving it
 *   back (checkin or release, even naming the freed pool) or
 *   evtls_conn_free frees it. A shutdown that times out does the same to
 *   the connections still out, with EVTLS_ERR_POOL_CLOSED.
 * - max_total is shared: when it stops an origin's waiter, the least
 *   recently used idle connection of another origin is closed to make room
 *   (counted in `evicted`); with none idle, the origin waits its turn for
 *   the next connection to go. Origins left empty are dropped after the
 *   idle timeout (60 s when idle connections never expire).
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
    /* HTTP/2 origins (evtls_cfg_set_http2): an HTTP/2 connection is shared
     * by as many checkouts as it takes streams (min(the server's
     * MAX_CONCURRENT_STREAMS, the configuration's cap)); while an origin
     * is not yet known to speak h2, one connection is dialled and the
     * waiting checkouts attach to it. Another connection opens only when
     * every one is full, unless http2_one_connection is 1: then the
     * checkouts over one connection's streams wait in line (default 0). */
    int http2_one_connection;
} evtls_pool_opts;

/* What a checkout got. */
typedef struct evtls_checkout_info {
    int reused;          /* an idle connection was reused */
    int resumed;         /* a new connection resumed a session */
    uint64_t wait_us;    /* time queued for a connection, not counting its connect */
    uint64_t connect_us; /* connect time of a new connection (0 if reused) */
    /* On a failed connect, its whole record (wolfSSL code, certificate
     * flags, detail); NULL otherwise. Valid during the callback only. */
    const evtls_last_error *error;
} evtls_checkout_info;

/* Called once per checkout from the loop: c ready with err 0, or c NULL
 * with the error (the connect error, EVTLS_ERR_POOL_WAIT_TIMEOUT,
 * EVTLS_ERR_POOL_CLOSED, or EVTLS_ERR_POOL_FREED with p NULL). */
typedef void (*evtls_checkout_cb)(evtls_pool *p, evtls_conn *c, int err,
                                  const evtls_checkout_info *info, void *arg);

typedef enum evtls_pool_conn_state {
    EVTLS_POOL_CONNECTING,
    EVTLS_POOL_IDLE,
    EVTLS_POOL_BUSY,
    EVTLS_POOL_CLOSED
} evtls_pool_conn_state;

/* Called on every state change of a pooled connection (c is NULL for a
 * connection that failed to connect or was let go). It may look at the
 * pool's stats; pool calls from inside it are refused. */
typedef void (*evtls_pool_state_cb)(evtls_pool *p, evtls_conn *c, evtls_pool_conn_state from,
                                    evtls_pool_conn_state to, void *arg);

typedef struct evtls_pool_stats {
    /* gauges */
    unsigned idle, busy, connecting, waiting;
    unsigned origins; /* origins known (pool only; empty ones go after the idle timeout) */
    unsigned racing;  /* Happy Eyeballs attempts racing a connection's first socket: the
                         per-origin and total limits count them as connections */
    /* counters */
    uint64_t checkouts, created, reused, resumed, resume_refused;
    uint64_t expired;       /* closed for idle time, lifetime or uses */
    uint64_t dead_idle;     /* idle ones found closed or broken at checkout */
    uint64_t evicted;       /* idle ones closed so that another origin's waiter could connect */
    uint64_t wait_timeouts; /* checkouts that gave up waiting */
    uint64_t wait_us_total; /* summed wait time of delivered checkouts */
    uint64_t failed[EVTLS_CLASS_COUNT]; /* failed connects, by error class */
    /* HTTP/2 */
    unsigned h2_conns;        /* gauge: connections speaking HTTP/2 (counted in idle/busy too) */
    uint64_t shared;          /* checkouts given a connection other holders had at the time */
    uint64_t streams;         /* streams of the HTTP/2 connections closed so far */
    uint64_t refused_streams; /* of them: REFUSED_STREAM, or above a GOAWAY's last stream id */
    uint64_t goaways;         /* GOAWAYs those connections received */
    uint64_t pings_lost;      /* connections closed for a PING not answered in time */
} evtls_pool_stats;

/* Fills o with the defaults above. */
EVTLS_API void evtls_pool_opts_default_sized(evtls_pool_opts *o, size_t size);
static inline void evtls_pool_opts_default(evtls_pool_opts *o)
{
    evtls_pool_opts_default_sized(o, sizeof(evtls_pool_opts));
}

/* Creates a pool on base (opts NULL: defaults). */
EVTLS_API evtls_pool *evtls_pool_new_sized(struct event_base *base, const evtls_pool_opts *opts,
                                           size_t opts_size);
static inline evtls_pool *evtls_pool_new(struct event_base *base, const evtls_pool_opts *opts)
{
    return evtls_pool_new_sized(base, opts, sizeof(evtls_pool_opts));
}

/* Uses r for every new connection's name resolution (a reference is
 * taken); by default the pool makes one resolver for all of them. */
EVTLS_API int evtls_pool_set_resolver(evtls_pool *p, evtls_resolver *r);

/* The pool's session cache, e.g. to save it to or load it from a file. */
EVTLS_API evtls_session_cache *evtls_pool_get_session_cache(evtls_pool *p);

/* Uses sc as the pool's session cache from now on (a reference is taken;
 * the pool lets go of its own): several pools, or a pool and single
 * connections, may share one, so a session made by one resumes in the
 * other. Connections already made keep the cache they had. Returns 0, or
 * EVTLS_ERR_INVALID_ARG for a NULL pool or cache. */
EVTLS_API int evtls_pool_set_session_cache(evtls_pool *p, evtls_session_cache *sc);

/* Sets the state-change hook. Returns 0 or EVTLS_ERR_INVALID_ARG. */
EVTLS_API int evtls_pool_set_state_cb(evtls_pool *p, evtls_pool_state_cb cb, void *arg);

/* Asks for a connection to host:port made with cfg. Returns 0 (cb will be
 * called, never from inside this call; *handle, if not NULL, can cancel
 * until then) or an error now (EVTLS_ERR_POOL_CLOSED, INVALID_ARG, NOMEM). */
EVTLS_API EVTLS_MUST_CHECK int evtls_pool_checkout(evtls_pool *p, evtls_cfg *cfg, const char *host,
                                                   uint16_t port, evtls_checkout_cb cb, void *arg,
                                                   evtls_checkout **handle);

/* Cancels a checkout whose callback has not started; it never runs. A
 * connection already chosen for it goes back to the pool. Inside the
 * callback, or after it, this does nothing (the handle is spent). */
EVTLS_API void evtls_pool_cancel(evtls_checkout *h);

/* Gives a checked-out connection back for reuse. It should be connected,
 * with nothing left to write; a connection in any other state is closed
 * instead. One with an HTTP exchange still running is refused with
 * EVTLS_ERR_STATE and stays the holder's (the next holder would get this
 * request's response): cancel the exchange, or release the connection.
 * Returns 0; EVTLS_ERR_INVALID_ARG for a
 * connection p did not hand out or already got back (nothing is done);
 * or, for a connection whose pool let go of it (freed, or shut down past
 * its timeout), the error it was failed with, having freed it. */
EVTLS_API int evtls_pool_checkin(evtls_pool *p, evtls_conn *c);

/* Gives a checked-out connection back as unusable: it is closed. A
 * connection whose pool let go of it is freed; one p did not hand out is
 * left alone. */
EVTLS_API void evtls_pool_release(evtls_pool *p, evtls_conn *c);

/* Opens connections to an origin until n are idle or connecting (bounded by
 * the limits), e.g. before a burst. Returns 0 or an error. */
EVTLS_API int evtls_pool_prewarm(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port,
                                 unsigned n);

/* Graceful shutdown: new checkouts fail with EVTLS_ERR_POOL_CLOSED, waiters
 * get it too, idle connections close with close_notify, busy ones when they
 * come back. When all are closed, cb(p, 0, arg) runs; after timeout_ms
 * (0: none) the ones still out are failed in place with
 * EVTLS_ERR_POOL_CLOSED (their exchanges end with it; the holders give
 * them back or free them as usual) and cb gets EVTLS_ERR_TIMEOUT. cb may
 * be NULL. The pool must still be freed with evtls_pool_free. */
typedef void (*evtls_pool_shutdown_cb)(evtls_pool *p, int err, void *arg);
EVTLS_API void evtls_pool_shutdown(evtls_pool *p, unsigned timeout_ms, evtls_pool_shutdown_cb cb,
                                   void *arg);

/* Frees the pool at once (see the contract above for what happens to
 * pending checkouts and to connections still out). NULL is ignored. */
EVTLS_API void evtls_pool_free(evtls_pool *p);

/* Copies the pool's counters and gauges. */
EVTLS_API void evtls_pool_get_stats_sized(const evtls_pool *p, evtls_pool_stats *st, size_t size);
static inline void evtls_pool_get_stats(const evtls_pool *p, evtls_pool_stats *st)
{
    evtls_pool_get_stats_sized(p, st, sizeof(evtls_pool_stats));
}

/* The gauges and counters of one origin (all zero if unknown). */
EVTLS_API void evtls_pool_get_origin_stats_sized(const evtls_pool *p, const evtls_cfg *cfg,
                                                 const char *host, uint16_t port,
                                                 evtls_pool_stats *st, size_t size);
static inline void evtls_pool_get_origin_stats(const evtls_pool *p, const evtls_cfg *cfg,
                                               const char *host, uint16_t port,
                                               evtls_pool_stats *st)
{
    evtls_pool_get_origin_stats_sized(p, cfg, host, port, st, sizeof(evtls_pool_stats));
}

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_POOL_H */
