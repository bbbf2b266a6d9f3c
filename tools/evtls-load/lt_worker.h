/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_worker.h - one evtls-load thread: its own event_base, configuration,
 * resolver, session cache and counters; nothing shared on the hot path.
 * The main thread reads its progress counters and asks it to stop. */
#ifndef LT_WORKER_H
#define LT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "lt_opts.h"
#include "lt_stats.h"

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

/* Creates a worker (its configuration is built here, so that errors in the
 * options show before anything runs). Returns NULL with err set. */
lt_worker *lt_worker_new(const lt_opts *o, const lt_share *share, char *err, size_t errlen);

/* Runs the worker on a new thread. Returns 0 or an errno. */
int lt_worker_start(lt_worker *w);

/* Asks the worker to stop now (from any thread): operations in flight are
 * abandoned and counted as unfinished. */
void lt_worker_stop(lt_worker *w);

/* Waits for the thread to end. */
void lt_worker_join(lt_worker *w);

/* Progress, readable from any thread while it runs. */
uint64_t lt_worker_ops_done(const lt_worker *w);
uint64_t lt_worker_errors(const lt_worker *w);
uint64_t lt_worker_held(const lt_worker *w);

/* After the join: the counters and operations left unfinished. */
const lt_stats *lt_worker_stats(const lt_worker *w);
uint64_t lt_worker_unfinished(const lt_worker *w);

/* --warm-up: when the thread's warm-up ended (lt_now_us), 0 without one. */
uint64_t lt_worker_warm_end(const lt_worker *w);

/* When the thread actually began (its start timer fired; lt_now_us), 0
 * when it never did. */
uint64_t lt_worker_began(const lt_worker *w);

/* --log-file: one record per ended operation, kept in memory while the
 * loop runs (no file I/O on it) and written after the run. */
typedef struct lt_logrec {
    uint64_t start_us; /* after the run's start */
    uint32_t total_us;
    int16_t status; /* HTTP status, 0 for none */
    int16_t err;    /* evtls error, 0 for success */
} lt_logrec;
#define LT_LOG_MAX 1000000 /* records kept per thread; the rest are counted */

/* The thread's records (after the run) and how many did not fit. */
const lt_logrec *lt_worker_log(const lt_worker *w, size_t *n, uint64_t *dropped);

void lt_worker_free(lt_worker *w);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t lt_now_us(void);

#endif
