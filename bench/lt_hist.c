/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_hist.c - see lt_hist.h. Layout: values below LT_HIST_SUB have a slot
 * each; above, each power of two [2^k, 2^(k+1)) is split into LT_HIST_HALF
 * equal slots, so a slot is never wider than 2^-9 of its values. */
#include <string.h>

#include "lt_hist.h"

#define VMAX ((UINT64_C(1) << LT_HIST_MAX_BITS) - 1)

void lt_hist_reset(lt_hist *h)
{
    memset(h, 0, sizeof *h);
}

unsigned lt_hist_slot_of(uint64_t v)
{
    if (v < LT_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (LT_HIST_SUB_BITS - 1); /* >= 1 */
    unsigned sub = (unsigned)(v >> shift);         /* in [HALF, SUB) */
    return LT_HIST_SUB + (shift - 1) * LT_HIST_HALF + (sub - LT_HIST_HALF);
}

uint64_t lt_hist_slot_low(unsigned slot)
{
    if (slot < LT_HIST_SUB)
        return slot;
    unsigned k = slot - LT_HIST_SUB;
    unsigned shift = k / LT_HIST_HALF + 1;
    uint64_t sub = LT_HIST_HALF + k % LT_HIST_HALF;
    return sub << shift;
}

uint64_t lt_hist_slot_high(unsigned slot)
{
    if (slot < LT_HIST_SUB)
        return slot;
    unsigned shift = (slot - LT_HIST_SUB) / LT_HIST_HALF + 1;
    return lt_hist_slot_low(slot) + (UINT64_C(1) << shift) - 1;
}

void lt_hist_record(lt_hist *h, uint64_t v)
{
    if (v > VMAX) {
        v = VMAX;
        h->clamped++;
    }
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->count++;
    h->sum += (double)v;
    h->slot[lt_hist_slot_of(v)]++;
}

void lt_hist_merge(lt_hist *dst, const lt_hist *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    for (unsigned i = 0; i < LT_HIST_SLOTS; i++)
        dst->slot[i] += src->slot[i];
}

uint64_t lt_hist_percentile(const lt_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    /* The rank of the p-th percentile, 1-based, rounded up (nearest rank). */
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count + 0.999999999);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LT_HIST_SLOTS; i++) {
        seen += h->slot[i];
        if (seen >= rank) {
            uint64_t v = lt_hist_slot_high(i);
            return v > h->max ? h->max : (v < h->min ? h->min : v);
        }
    }
    return h->max;
}

double lt_hist_mean(const lt_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
