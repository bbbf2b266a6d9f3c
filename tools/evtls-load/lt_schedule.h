/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_schedule.h - when evtls-load's operations are due and its slots join
 * (pure: every time is computed from the arguments, the clock is not
 * read). */
#ifndef LT_SCHEDULE_H
#define LT_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lt_schedule {
    double rate;      /* --rate: operations per second over all shards and workers (0: closed) */
    uint64_t ramp_us; /* --ramp-up */
    uint64_t t0_us;   /* when every worker starts */
    unsigned idx, of; /* this worker's index and the number of workers */
    unsigned shard, shards; /* this process's shard and the number of shards */
    unsigned conns;         /* this worker's connections */
    /* --stages: the open loop's rate goes linearly from the level before
     * (0 at the start) to each stage's level over its time; n 0: none */
    const uint64_t *stage_us;
    const double *stage_rate;
    unsigned n_stages;
    int stages_conns; /* the stages' levels are connections (the closed loop's) */
} lt_schedule;

/* Open loop: when this worker's operation k is due. Shards and workers
 * interleave: shard i of N takes the unsharded schedule's operations i,
 * i+N, i+2N, ...; worker j of T the shard's j, j+T, j+2T, ... So every
 * shard runs at rate/N and together they keep the unsharded schedule. On a
 * ramp the rate grows linearly: N(t) = rate t^2 / (2 ramp) until ramp/2
 * seconds' worth of operations, then rate t. */
uint64_t lt_schedule_op_us(const lt_schedule *s, uint64_t k);
/* With stages, the operation numbered g over all shards and workers is due
 * when the stages' cumulative count N(t) (the integral of the rate)
 * reaches g: N(t) = g solved in the stage holding it. An operation past the
 * stages' whole count is due an hour after their end (never in the run). */

/* The number of this worker's operation k over every shard and worker:
 * the unsharded schedule's (k of + idx) shards + shard. */
uint64_t lt_schedule_global(const lt_schedule *s, uint64_t k);

/* --conn-stages: when this worker's slot i joins and leaves. Its number
 * over every shard and worker, G (interleaved as the operations'), is
 * active while the level is above G: it joins when a rising stage passes
 * G and leaves when a falling one comes down to G, at the instant the
 * linear level crosses it. Writes up to cap events in time order (at:
 * CLOCK_MONOTONIC us from t0; join: 1 joins, 0 leaves); returns how many
 * there are (at most one a stage). */
size_t lt_schedule_slot_events(const lt_schedule *s, unsigned i, uint64_t *at, int *join,
                               size_t cap);

/* When slot i starts: t0 + ramp * i / conns in a closed loop (and hold
 * mode), t0 in an open loop (there the ramp paces the rate). */
uint64_t lt_schedule_join_us(const lt_schedule *s, unsigned i);

#endif
