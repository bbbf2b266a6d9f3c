/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_worker.h - one evtls-load thread: its own event_base, configuration,
 * resolver, session cache and counters; nothing shared on the hot path.
 * The main thread reads its progress counters and asks it to stop. */
#ifndef LT_WORKER_H
#define LT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "lt_opts.h"
#include "lt_slot.h"
#include "lt_stats.h"

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
/* Open loop: operations due and not yet started (waiting for a free connection). */
uint64_t lt_worker_backlog(const lt_worker *w);
/* --session-file: the sessions this thread loaded (negative: the file
 * was refused), and its sessions copied into all after the join (the
 * number, or an error). */
int lt_worker_sessions_loaded(const lt_worker *w);
/* --metrics-listen: this thread's counters added to v. */
void lt_worker_metrics(const lt_worker *w, struct lt_metrics_view *v);
/* --expect-body / --expect-header: the checks made so far, and failed. */
uint64_t lt_worker_checks(const lt_worker *w, uint64_t *failed);
int lt_worker_sessions_into(const lt_worker *w, evtls_session_cache *all);

/* Adds the successful operations' latency counts of second sec (from the
 * start; LT_SERIES_SLOTS of them) to slot, and the operations that ended
 * in it (and of them failed) to *ops and *errors. Only the running second and the
 * one before are kept; 0, or -1 when the thread moved past sec while it
 * was read (nothing is added). */
int lt_worker_add_second(const lt_worker *w, uint64_t sec, uint32_t *slot, uint64_t *ops,
                         uint64_t *errors);
uint64_t lt_worker_held(const lt_worker *w);

/* After the join: the counters and operations left unfinished. */
const lt_stats *lt_worker_stats(const lt_worker *w);
/* --script: this thread's Lua state; setup() and init() have run: its
 * thread.addr taken; a script error ended its run. */
lt_script *lt_worker_script(const lt_worker *w);
void lt_worker_script_ready(lt_worker *w);
int lt_worker_script_failed(const lt_worker *w);

/* --targets: target t's counters in this thread. */
const lt_stats *lt_worker_target_stats(const lt_worker *w, unsigned t);
uint64_t lt_worker_unfinished(const lt_worker *w);

/* --warm-up: when the thread's warm-up ended (lt_now_us), 0 without one. */
uint64_t lt_worker_warm_end(const lt_worker *w);

/* When the thread actually began (its start timer fired; lt_now_us), 0
 * when it never did. */
uint64_t lt_worker_began(const lt_worker *w);

/* The thread's records (after the run) and how many did not fit. */
const lt_logrec *lt_worker_log(const lt_worker *w, size_t *n, uint64_t *dropped);

void lt_worker_free(lt_worker *w);

#endif
