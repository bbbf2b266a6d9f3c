/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_hist.c - see lt_hist.h. Layout with 2^b sub-buckets: values below 2^b
 * have a slot each; above, each power of two [2^k, 2^(k+1)) is split into
 * 2^(b-1) equal slots, so a slot is never wider than 2^-(b-1) of its
 * values. HdrHistogram's counts index is the same function. */
#include <string.h>

#include "lt_hist.h"

void lt_hist_reset(lt_hist *h)
{
    memset(h, 0, sizeof *h);
}

unsigned lt_layout_slot_of(unsigned b, uint64_t v)
{
    if (v < (UINT64_C(1) << b))
        return (unsigned)v;
    unsigned half = 1u << (b - 1);
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (b - 1);        /* >= 1 */
    unsigned sub = (unsigned)(v >> shift); /* in [half, 2 half) */
    return (1u << b) + (shift - 1) * half + (sub - half);
}

uint64_t lt_layout_low(unsigned b, unsigned slot)
{
    if (slot < (1u << b))
        return slot;
    unsigned half = 1u << (b - 1), k = slot - (1u << b);
    unsigned shift = k / half + 1;
    uint64_t sub = half + k % half;
    return sub << shift;
}

uint64_t lt_layout_high(unsigned b, unsigned slot)
{
    if (slot < (1u << b))
        return slot;
    unsigned shift = (slot - (1u << b)) / (1u << (b - 1)) + 1;
    return lt_layout_low(b, slot) + (UINT64_C(1) << shift) - 1;
}

unsigned lt_hist_slot_of(uint64_t v)
{
    return lt_layout_slot_of(LT_HIST_SUB_BITS, v);
}

uint64_t lt_hist_slot_low(unsigned slot)
{
    return lt_layout_low(LT_HIST_SUB_BITS, slot);
}

uint64_t lt_hist_slot_high(unsigned slot)
{
    return lt_layout_high(LT_HIST_SUB_BITS, slot);
}

void lt_hist_record(lt_hist *h, uint64_t v)
{
    if (v > LT_HIST_VMAX) {
        v = LT_HIST_VMAX;
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
