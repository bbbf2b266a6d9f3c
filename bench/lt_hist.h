/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_hist.h - a high-dynamic-range latency histogram for evtls-load
 * (HdrHistogram's log-linear layout): values from 0 to 2^40 - 1 (in µs,
 * 12 days) with a relative error of at most 1/512 (0.2 %), constant-time
 * recording with no allocation, and exact merging (threads record into
 * their own histogram; the totals are their sum). */
#ifndef LT_HIST_H
#define LT_HIST_H

#include <stdint.h>

#define LT_HIST_SUB_BITS 10 /* 1024 sub-buckets: relative error <= 2^-9 */
#define LT_HIST_MAX_BITS 40 /* values up to 2^40 - 1; larger ones are clamped */
#define LT_HIST_SUB      (1u << LT_HIST_SUB_BITS)
#define LT_HIST_HALF     (LT_HIST_SUB / 2)
#define LT_HIST_SLOTS    (LT_HIST_SUB + (LT_HIST_MAX_BITS - LT_HIST_SUB_BITS) * LT_HIST_HALF)

typedef struct lt_hist {
    uint64_t count, min, max, clamped;
    double sum;
    uint64_t slot[LT_HIST_SLOTS];
} lt_hist;

/* Empties h. */
void lt_hist_reset(lt_hist *h);

/* Records one value (values past the range count as the largest one and
 * are counted in clamped). */
void lt_hist_record(lt_hist *h, uint64_t v);

/* Adds every value of src to dst. */
void lt_hist_merge(lt_hist *dst, const lt_hist *src);

/* The value at percentile p (0..100): the highest value equivalent to the
 * slot where the p-th percentile falls, never above the maximum recorded.
 * 0 for an empty histogram. */
uint64_t lt_hist_percentile(const lt_hist *h, double p);

/* The mean of the recorded values (exact: kept as a sum), 0 when empty. */
double lt_hist_mean(const lt_hist *h);

/* Slot index of v and the lowest and highest value of a slot (exposed for
 * tests). */
unsigned lt_hist_slot_of(uint64_t v);
uint64_t lt_hist_slot_low(unsigned slot);
uint64_t lt_hist_slot_high(unsigned slot);

#endif
