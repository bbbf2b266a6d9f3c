/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_schedule.c - when operations are due and slots join (pure). */
#include "lt_schedule.h"

#include <math.h>

uint64_t lt_schedule_op_us(const lt_schedule *s, uint64_t k)
{
    double g = ((double)k * s->of + s->idx) * s->shards + s->shard; /* the global index */
    double ramp = (double)s->ramp_us / 1e6, t;                      /* seconds */
    if (ramp > 0 && g < s->rate * ramp / 2)
        t = sqrt(2 * ramp * g / s->rate);
    else
        t = (ramp > 0 ? ramp / 2 : 0) + g / s->rate;
    return s->t0_us + (uint64_t)(t * 1e6 + 0.5); /* to the nearest microsecond */
}

uint64_t lt_schedule_join_us(const lt_schedule *s, unsigned i)
{
    uint64_t ramp = s->rate > 0 ? 0 : s->ramp_us;
    return s->t0_us + ramp * i / s->conns;
}
