/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_hist.h - a high-dynamic-range latency histogram for evtls-load in
 * HdrHistogram's own bucket layout (lowest discernible value 1, 3
 * significant digits: 2,048 sub-buckets), so that a slot index here is
 * HdrHistogram's counts index and lt_hdr.c can write the standard encoding:
 * values from 0 to 2^40 - 1 (in µs, 12 days) with a relative error of at
 * most 1/1024 (0.1 %), constant-time recording with no allocation, and
 * exact merging (threads and shards record into their own histogram; the
 * totals are their sum).
 *
 * The layout is a function of the sub-bucket bits: the per-second series
 * use a coarser one (LT_SERIES_SUB_BITS, HdrHistogram's 2 significant
 * digits) through the lt_layout_ functions. */
#ifndef LT_HIST_H
#define LT_HIST_H

#include <stdint.h>

#define LT_HIST_MAX_BITS 40 /* values up to 2^40 - 1; larger ones are clamped */
#define LT_HIST_VMAX     ((UINT64_C(1) << LT_HIST_MAX_BITS) - 1)
/* Slots of the layout with 2^b sub-buckets: the first bucket has 2^b, each
 * further power of two the upper half of that. */
#define LT_LAYOUT_SLOTS(b) ((1u << (b)) + (LT_HIST_MAX_BITS - (b)) * (1u << ((b)-1)))

#define LT_HIST_SUB_BITS 11 /* 2048 sub-buckets: relative error <= 2^-10 */
#define LT_HIST_SUB      (1u << LT_HIST_SUB_BITS)
#define LT_HIST_HALF     (LT_HIST_SUB / 2)
#define LT_HIST_SLOTS    LT_LAYOUT_SLOTS(LT_HIST_SUB_BITS)

#define LT_SERIES_SUB_BITS 8 /* 256 sub-buckets: relative error <= 2^-7 */
#define LT_SERIES_SLOTS    LT_LAYOUT_SLOTS(LT_SERIES_SUB_BITS)

/* The layout with 2^b sub-buckets (b from 2 to 20): the slot of v (v at
 * most LT_HIST_VMAX) and the lowest and highest value of a slot. */
unsigned lt_layout_slot_of(unsigned b, uint64_t v);
uint64_t lt_layout_low(unsigned b, unsigned slot);
uint64_t lt_layout_high(unsigned b, unsigned slot);

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

/* Slot index of v and the lowest and highest value of a slot, in the
 * histogram's layout. */
unsigned lt_hist_slot_of(uint64_t v);
uint64_t lt_hist_slot_low(unsigned slot);
uint64_t lt_hist_slot_high(unsigned slot);

#endif
