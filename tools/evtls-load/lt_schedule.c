/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_schedule.c - when operations are due and slots join (pure). */
#include "lt_schedule.h"

#include <math.h>

/* Seconds after t0 at which the stages' count reaches g, -1 past them. */
static double stages_time(const lt_schedule *s, double g)
{
    double t = 0, n = 0, a = 0; /* each stage's start: time, count so far, rate */
    for (unsigned i = 0; i < s->n_stages; i++) {
        double d = (double)s->stage_us[i] / 1e6, b = s->stage_rate[i];
        double end = n + (a + b) / 2 * d;
        if (g < end) {
            /* a x + (b - a) x^2 / (2 d) = g - n, for x in [0, d] */
            double x = g - n, k = (b - a) / d, tau;
            if (fabs(k) * d < 1e-9 * (a + b))
                tau = x / a;
            else
                tau = (-a + sqrt(a * a + 2 * k * x)) / k;
            return t + (tau < 0 ? 0 : tau > d ? d : tau);
        }
        t += d;
        n = end;
        a = b;
    }
    return -1;
}

uint64_t lt_schedule_global(const lt_schedule *s, uint64_t k)
{
    return (k * s->of + s->idx) * s->shards + s->shard;
}

uint64_t lt_schedule_op_us(const lt_schedule *s, uint64_t k)
{
    double g = (double)lt_schedule_global(s, k); /* the global index */
    if (s->n_stages) {
        double t = stages_time(s, g);
        if (t < 0) {
            uint64_t all = 0;
            for (unsigned i = 0; i < s->n_stages; i++)
                all += s->stage_us[i];
            return s->t0_us + all + 3600u * 1000000u;
        }
        return s->t0_us + (uint64_t)(t * 1e6 + 0.5);
    }
    double ramp = (double)s->ramp_us / 1e6, t; /* seconds */
    if (ramp > 0 && g < s->rate * ramp / 2)
        t = sqrt(2 * ramp * g / s->rate);
    else
        t = (ramp > 0 ? ramp / 2 : 0) + g / s->rate;
    return s->t0_us + (uint64_t)(t * 1e6 + 0.5); /* to the nearest microsecond */
}

size_t lt_schedule_slot_events(const lt_schedule *s, unsigned i, uint64_t *at, int *join,
                               size_t cap)
{
    double g = (double)lt_schedule_global(s, i), t = 0, a = 0; /* a stage's start: time, level */
    size_t n = 0;
    for (unsigned k = 0; k < s->n_stages; k++) {
        double d = (double)s->stage_us[k], b = s->stage_rate[k];
        int up = a <= g && g < b, down = b <= g && g < a;
        if (up || down) {
            double x = t + (up ? (g - a) / (b - a) : (a - g) / (a - b)) * d;
            if (n < cap) {
                at[n] = s->t0_us + (uint64_t)(x + 0.5);
                join[n] = up;
            }
            n++;
        }
        t += d;
        a = b;
    }
    return n;
}

uint64_t lt_schedule_join_us(const lt_schedule *s, unsigned i)
{
    uint64_t ramp = s->rate > 0 ? 0 : s->ramp_us;
    return s->t0_us + ramp * i / s->conns;
}
