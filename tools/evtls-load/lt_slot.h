/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_slot.h - evtls-load's slot driver, shared with the worker that owns
 * it (internal to tools/evtls-load): the worker's and the slots' state, and
 * what the worker's timers and set-up call. */
#ifndef LT_SLOT_H
#define LT_SLOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <event2/event.h>
#include <evtls/evtls.h>

#include "lt_opts.h"
#include "lt_schedule.h"
#include "lt_metrics.h"
#include "lt_script.h"
#include "lt_stats.h"
#include "lt_targets.h"

typedef struct lt_worker lt_worker;

/* The share of the run one worker gets. */
typedef struct lt_share {
    unsigned idx, of;       /* this worker's index and the number of workers */
    unsigned shard, shards; /* this process's shard and the number of shards */
    unsigned conns;         /* its connections */
    uint64_t total;         /* its operations, 0 = unlimited */
    uint64_t t0_us;         /* when every worker starts (CLOCK_MONOTONIC) */
    uint64_t end_us;        /* when every worker stops starting operations, 0 = never */
    int done_fd;            /* a byte is written here when the worker ends */
} lt_share;

/* --log-file: one record per ended operation, kept in memory while the
 * loop runs (no file I/O on it) and written after the run. */
typedef struct lt_logrec {
    uint64_t start_us; /* after the run's start */
    uint32_t total_us;
    int16_t status; /* HTTP status, 0 for none */
    int16_t err;    /* evtls error, 0 for success */
} lt_logrec;
#define LT_LOG_MAX 1000000 /* records kept per thread; the rest are counted */

/* CLOCK_MONOTONIC in microseconds. */
uint64_t lt_now_us(void);

/* A slot's state, written by slot_set (lt_slot.c) alone, with its move table. */
enum slot_state {
    S_FREE,       /* no connection, no operation */
    S_IDLE_CONN,  /* request mode: an open connection waiting for a request */
    S_CONNECTING, /* connecting for an operation */
    S_EXCHANGE,   /* a request in flight */
    S_CLOSING,    /* closing its connection */
    S_BACKOFF,    /* after a failed connect (closed loop, -d): waiting before the next */
    S_HELD,       /* hold mode: connected and kept */
    S_DEAD        /* hold mode: its connection failed */
};

struct slot {
    lt_worker *w;
    unsigned group;  /* its origin (lt_worker.groups) */
    unsigned target; /* --targets: the operation's target */
    evtls_conn *c;
    evtls_http_exchange *x;
    evtls_checkout *co; /* HTTP/2: waiting for a stream */
    unsigned refused;   /* HTTP/2: times the operation's stream was refused */
    uint64_t stream_at; /* HTTP/2: when the operation's last try got its stream */
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
    uint64_t x_start; /* when the current request's exchange started */
    /* --early-data-ratio: the connection carries the operation's request as
     * early data (its request chosen at the connect); a 425 sends it again
     * once without (too_early) */
    int early_req, early_accepted, too_early;
    /* --expect-body: found in the response so far; the last bytes of the
     * body kept for a match across pieces */
    int body_found;
    size_t carry_len;
    uint8_t carry[256];
    /* --script: the operation's request (a reference), and delay()'s
     * wait before it: the slot is off the free list while it runs, in its
     * state (FREE or IDLE_CONN) */
    lt_sreq *sreq;
    struct event *delay_ev;
    int delayed;
    /* --conn-stages: when the slot joins and leaves (lt_schedule.c), the
     * next of them, and whether it is out now (parked: no operation starts
     * on it, its connection closed once its operation ends) */
    uint64_t *ev_at;
    int *ev_join;
    unsigned n_ev, next_ev;
    struct event *stage_ev;
    int parked;
    char *body; /* response(): the body so far */
    size_t body_len, body_cap;
    struct slot *next_free;
};

/* An origin the worker's slots connect to: the URL's, or each of the
 * targets file's. Its slots take the operations whose targets are its. */
struct lt_group {
    evtls_cfg *cfg;
    const char *dial_host;
    uint16_t dial_port;
    const char *const *addrs; /* dialled in turn instead of the host's, when n_addrs */
    unsigned n_addrs, next_addr;
    unsigned conns;    /* its slots */
    struct slot *free; /* its slots free for an operation */
    uint64_t cursor;   /* --targets: the next operation (this worker's number) to look at */
    lt_draw draw;      /* --targets: the weighted sequence, at this group's place */
    evtls_pool *pool;  /* HTTP/2: its connections (conns), each shared by -M slots' streams */
};

struct lt_worker {
    const lt_opts *o;
    lt_share sh;
    lt_schedule sched; /* from o and sh */
    struct event_base *base;
    evtls_resolver *resolver;
    evtls_session_cache *sessions;
    evtls_http_req *reqs[LT_MAX_URLS];
    unsigned n_reqs, next_req; /* several URLs: taken in turn; --targets: one a target */
    struct lt_group *groups;   /* the origins: one, or the targets' */
    unsigned n_groups;
    lt_stats *tst;           /* --targets: each target's counters */
    lt_script *script;       /* --script: this thread's Lua state */
    const char *script_addr; /* setup()'s thread.addr */
    _Atomic int a_script_failed;
    evtls_http_opts hopts;
    evtls_http_cbs cbs;

    struct slot *slots;
    unsigned n_slots;  /* -c's share, times -M with HTTP/2: one slot per stream */
    evtls_conn **seen; /* HTTP/2: the pool's connections it has counted as new */
    size_t n_seen, cap_seen;
    unsigned active; /* slots started so far (--ramp-up) */
    unsigned busy;   /* slots running an operation or closing */

    uint64_t started;      /* operations started */
    uint64_t due;          /* open loop: operations 0 .. due-1 are due */
    uint64_t handshakes;   /* connections started (for --resume-ratio) */
    uint64_t offers_owed;  /* --resume-ratio: offers due that found no session yet */
    uint64_t early_offers; /* --early-data-ratio: session offers so far */
    int sessions_loaded;   /* --session-file: this thread's share, or an error */
    uint64_t warm_left;    /* --warm-up: operations still to run uncounted */
    uint64_t warm_end_us;  /* when the warm-up ended (0: none) */
    uint64_t began_us;     /* when its start timer fired (0: not yet) */
    lt_logrec *log;        /* --log-file */
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
    _Atomic uint64_t a_backlog; /* open loop: due and not started (the progress line's) */
    _Atomic uint64_t a_checks, a_checks_failed; /* --abort-on-threshold's view of the checks */
    /* --metrics-listen: successful operations' latency in fixed buckets
     * (each counted in its own; the scrape makes them cumulative) */
    _Atomic uint64_t a_bucket[LT_METRIC_BUCKETS + 1], a_lat_count, a_lat_sum_us;
    /* and the responses by class, the failures by class, each target's
     * operations by result ([1] ok, [0] error), the operations running */
    _Atomic uint64_t a_status[6], a_err_class[LT_METRIC_CLASSES];
    _Atomic uint64_t a_target[LT_MAX_TARGETS][2];
    _Atomic uint64_t a_in_flight, a_conns_open;
    _Atomic uint64_t a_body_bytes, a_tls_in, a_tls_out; /* responses' bodies; closed conns' TLS */
    /* each phase's latency in the same buckets, and its sum */
    _Atomic uint64_t a_phase[LT_NPHASES][LT_METRIC_BUCKETS + 1], a_phase_sum_us[LT_NPHASES];
    /* The progress line's latency: the successful operations' counts of
     * this second and the last (by parity), each tagged with its second + 1
     * (0: none). Written by this thread, read by the main thread, which adds
     * the threads' counts of one second (lt_worker_add_second). */
    struct lt_live_second {
        _Atomic uint64_t tag;
        _Atomic uint64_t ops, errors; /* operations that ended, and of them failed */
        _Atomic uint32_t slot[LT_SERIES_SLOTS];
    } live[2];
};

/* Open loop: the scheduled time of operation k (lt_schedule.c). */
uint64_t lt_sched_us(const lt_worker *w, uint64_t k);

/* Starts the operations that are due on the free slots; ends the run when
 * nothing is left to do. */
void lt_slots_try_start(lt_worker *w);

/* Slot s is free for an operation. */
void lt_slots_push_free(lt_worker *w, struct slot *s);

/* Ends the run: operations in flight are abandoned, connections closed,
 * the loop broken. */
void lt_slots_finish(lt_worker *w);

/* Arms ev for the CLOCK_MONOTONIC instant at_us (at once if past). */
void lt_arm(struct event *ev, uint64_t at_us);

/* The exchanges' callbacks, for the worker's set-up. */
int lt_slot_on_body(evtls_http_exchange *x, const uint8_t *data, size_t len, void *arg);
void lt_slot_on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg);

/* --conn-stages: the slot's next join or leave is due. */
void lt_slot_stage_cb(evutil_socket_t fd, short what, void *arg);

/* HTTP/2: a connection of the worker's pool closed (its bytes and
 * attempts are counted). */
void lt_slot_conn_gone(lt_worker *w, evtls_conn *c);

#endif
